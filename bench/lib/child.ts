import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/** A benchmark target running in its own process, so that the load generator does not share its CPU. */
export interface Target<I> {
  info: I;
  /** CPU time (user + system) the target's process has used so far, in seconds; undefined where /proc cannot tell. */
  cpuSeconds(): number | undefined;
  stop(): Promise<void>;
}

/** Linux's clock ticks per second (`getconf CLK_TCK`), the unit of /proc/<pid>/stat's CPU times: 100 on every Linux Node runs on. */
const CLOCK_TICKS = 100;

/** utime + stime of a process from /proc/<pid>/stat (fields 14 and 15; the command name before them may hold spaces). */
function cpuSecondsOf(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}

/**
 * Starts `bench/targets/<script>` under tsx; the script prints one JSON line (its address and
 * whatever the benchmark needs) once it listens, then serves until killed.
 */
export async function startTarget<I>(script: string, args: string[]): Promise<Target<I>> {
  const path = fileURLToPath(new URL(`../targets/${script}`, import.meta.url));
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', path, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, NODE_ENV: 'production' },
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
    cpuSeconds: () => cpuSecondsOf(child.pid),
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
