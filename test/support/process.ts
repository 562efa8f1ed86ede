import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';

export const FERRY_BIN = fileURLToPath(new URL('../../bin/ferry.js', import.meta.url));

export interface RunningProcess {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /**
   * Resolves, with the match, as soon as the output printed so far matches `pattern` (checked
   * on every chunk the process writes: no polling). Rejects if the process exits first or after
   * `timeoutMs`, quoting what it printed.
   */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  exited: Promise<number | null>;
  stop(): Promise<void>;
}

/** Runs a command as a child process with piped output, for tests of what a user runs. */
export function runProcess(command: string, args: string[], env: Record<string, string> = {}): RunningProcess {
  const child = spawn(command, args, {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  const onOutput = new Set<() => void>();
  child.stdout!.on('data', (c) => {
    out += c.toString();
    for (const check of onOutput) check();
  });
  child.stderr!.on('data', (c) => {
    err += c.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const printed = () => `stdout=${JSON.stringify(out)} stderr=${JSON.stringify(err)}`;
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitFor: (pattern, timeoutMs = 15_000) =>
      new Promise((resolve, reject) => {
        const settle = (outcome: () => void) => {
          clearTimeout(timer);
          onOutput.delete(check);
          outcome();
        };
        const check = () => {
          const m = out.match(pattern);
          if (m) settle(() => resolve(m));
        };
        const timer = setTimeout(
          () => settle(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for the output to match ${pattern}; ${printed()}`))),
          timeoutMs,
        );
        onOutput.add(check);
        void exited.then((code) => {
          const m = out.match(pattern);
          settle(() => (m ? resolve(m) : reject(new Error(`the process exited (code ${code}) before its output matched ${pattern}; ${printed()}`))));
        });
        check();
      }),
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Runs `bin/ferry.js` as a child process, the way a user starts it. */
export function runFerry(args: string[], env: Record<string, string> = {}): RunningProcess {
  return runProcess(process.execPath, [FERRY_BIN, ...args], env);
}

/**
 * Waits for what a test cannot drive: a child process, a worker running on its own timers, a
 * call in flight on a real socket. Checks `check` every `intervalMs` until it returns a truthy
 * value (which it resolves with); rejects after `timeoutMs` naming `what` and quoting what the
 * last check returned or threw. A test that can drive the work (`drainOnce`, a manual clock)
 * does that instead of waiting.
 */
export async function waitUntil<T>(
  what: string,
  check: () => T | Promise<T>,
  { timeoutMs = 10_000, intervalMs = 25 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let last: string;
    try {
      const value = await check();
      if (value) return value as NonNullable<T>;
      last = `returned ${JSON.stringify(value)}`;
    } catch (err) {
      last = `threw ${err instanceof Error ? err.message : String(err)}`;
    }
    if (Date.now() >= deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; the last check ${last}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/**
 * A loopback port free at the time of the call, for a child process that must be told its
 * port in advance (a configuration file that also names it as api_addr).
 */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}
