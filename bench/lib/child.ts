import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { CPU_QUERY, type CpuTime } from './cpu.js';

/** A benchmark target running in its own process, so that the load generator does not share its CPU. */
export interface Target<I> {
  info: I;
  /** The target's process id (its memory is read from `/proc/<pid>/status`). */
  pid: number;
  /** The target process's CPU time so far (see `cpu.ts`). */
  cpuTime(): Promise<CpuTime>;
  /** Sends `message` over the IPC channel and resolves with the first answer of type `reply` (not while a CPU query is out). */
  ask<T>(message: object, reply: string): Promise<T>;
  stop(): Promise<void>;
}

/**
 * Node flags for the targets: BENCH_CPU_PROF=<dir> writes V8 CPU profiles of each target to
 * `<dir>` when it stops, one per thread (the largest is the main thread; tsx's loader runs in
 * another). For finding costs only: the sampling itself costs CPU, so the figures of such a
 * run are not comparable with others.
 */
function profileFlags(): string[] {
  const dir = process.env.BENCH_CPU_PROF;
  return dir ? ['--cpu-prof', `--cpu-prof-dir=${dir}`] : [];
}

/**
 * How a target runs: `tsx` (its TypeScript sources, through tsx's loader, as a source checkout's
 * bin runs them) or `compiled` (JavaScript compiled by tsc beforehand, as the container image
 * and a packed release run `dist/`: no loader thread, no transpiling at start). tsx's loader adds
 * about 45 MB of resident memory to a Ferry process, so memory figures are the product's only
 * when compiled.
 */
export type TargetRuntime = 'tsx' | 'compiled';

/** Where `compiled` targets are built: `tmp/` in the checkout (ignored by git and the linters), so that node_modules resolves. */
const COMPILED_DIR = fileURLToPath(new URL('../../tmp/bench-targets/', import.meta.url));
let compiling: Promise<void> | undefined;

/**
 * Compiles `src/` and `bench/targets/` with tsc (`bench/tsconfig.targets.json`) into
 * `tmp/bench-targets/`, keeping the checkout's layout, once per bench process: each run
 * measures the sources as they are now, never a stale build.
 */
function compileTargets(): Promise<void> {
  compiling ??= (async () => {
    const tsc = fileURLToPath(new URL('../../node_modules/typescript/bin/tsc', import.meta.url));
    const config = fileURLToPath(new URL('../tsconfig.targets.json', import.meta.url));
    const started = Date.now();
    await promisify(execFile)(process.execPath, [tsc, '-p', config, '--outDir', COMPILED_DIR], { maxBuffer: 16 * 1024 * 1024 });
    process.stdout.write(`(targets compiled with tsc into ${COMPILED_DIR} in ${((Date.now() - started) / 1000).toFixed(1)} s)\n`);
  })();
  return compiling;
}

/**
 * Starts `bench/targets/<script>` (under tsx, or compiled: see `TargetRuntime`); the script
 * prints one JSON line (its address and whatever the benchmark needs) once it listens, then
 * serves until killed. An IPC channel carries CPU-time queries.
 */
export async function startTarget<I>(
  script: string,
  args: string[],
  nodeFlags: string[] = [],
  env: Record<string, string> = {},
  runtime: TargetRuntime = 'tsx',
): Promise<Target<I>> {
  let entry: string[];
  if (runtime === 'compiled') {
    await compileTargets();
    entry = [`${COMPILED_DIR}bench/targets/${script.replace(/\.ts$/, '.js')}`];
  } else {
    entry = ['--import', 'tsx', fileURLToPath(new URL(`../targets/${script}`, import.meta.url))];
  }
  const child: ChildProcess = spawn(process.execPath, [...profileFlags(), ...nodeFlags, ...entry, ...args], {
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
    env: { ...process.env, NODE_ENV: 'production', ...env },
  });
  const info = await new Promise<I>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.once('line', (line) => {
      try {
        resolve(JSON.parse(line) as I);
      } catch (err) {
        reject(err as Error);
      }
    });
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code} before it listened`)));
  });
  return {
    info,
    pid: child.pid!,
    cpuTime: () =>
      new Promise<CpuTime>((resolve, reject) => {
        const onExit = () => reject(new Error(`${script} exited while asked for its CPU time`));
        child.once('message', (message) => {
          child.off('exit', onExit);
          resolve(message as CpuTime);
        });
        child.once('exit', onExit);
        child.send(CPU_QUERY);
      }),
    ask: <T>(message: object, reply: string) =>
      new Promise<T>((resolve, reject) => {
        const onExit = () => reject(new Error(`${script} exited while asked ${JSON.stringify(message).slice(0, 80)}`));
        const onMessage = (answer: unknown) => {
          if ((answer as { type?: string } | null)?.type !== reply) return;
          child.off('message', onMessage);
          child.off('exit', onExit);
          resolve(answer as T);
        };
        child.on('message', onMessage);
        child.once('exit', onExit);
        child.send(message);
      }),
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
