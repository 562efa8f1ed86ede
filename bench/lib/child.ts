import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/** A benchmark target running in its own process, so that the load generator does not share its CPU. */
export interface Target<I> {
  info: I;
  stop(): Promise<void>;
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
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
