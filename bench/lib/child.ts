import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
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
 * Starts `bench/targets/<script>` under tsx; the script prints one JSON line (its address and
 * whatever the benchmark needs) once it listens, then serves until killed. An IPC channel
 * carries CPU-time queries.
 */
export async function startTarget<I>(script: string, args: string[], nodeFlags: string[] = [], env: Record<string, string> = {}): Promise<Target<I>> {
  const path = fileURLToPath(new URL(`../targets/${script}`, import.meta.url));
  const child: ChildProcess = spawn(process.execPath, [...profileFlags(), ...nodeFlags, '--import', 'tsx', path, ...args], {
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
