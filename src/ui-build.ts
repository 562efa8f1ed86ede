import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import { loadUiAssets, type UiAssets } from './http/ui-assets.js';

/**
 * The web UI's assets at start. In a clone (`ui/` sources present) they are built into
 * `dist-ui/` when missing or older than their sources, so `npm ci && npm start` serves the UI
 * with no extra step; in a packed release or the container image (no `ui/`, `dist-ui/` made
 * by `npm run build`) they are only read. The bundler (Vite) runs in a child process, never
 * in the server: nothing of it is loaded at runtime.
 */

/** The package root: the parent of `src/` in a clone, of `dist/` in a build. */
export const PACKAGE_ROOT = fileURLToPath(new URL('..', import.meta.url));

export interface UiBuildPaths {
  /** The UI's sources and Vite configuration (`ui/`). */
  sources: string;
  /** Where the built assets go (`dist-ui/`). */
  out: string;
  /** Where `vite` is resolved from (the package root). */
  root: string;
}

export const DEFAULT_UI_PATHS: UiBuildPaths = { sources: join(PACKAGE_ROOT, 'ui'), out: join(PACKAGE_ROOT, 'dist-ui'), root: PACKAGE_ROOT };

/** The newest modification time of the files under `dir` (0 when there are none). */
function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    const at = entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs;
    if (at > newest) newest = at;
  }
  return newest;
}

/**
 * Whether `dist-ui/` must be (re)built: missing, or older than a source file or than the last
 * `npm install`/`npm ci` (a new Preact would change the bundle).
 */
export function uiBuildIsStale(paths: UiBuildPaths = DEFAULT_UI_PATHS): boolean {
  const index = join(paths.out, 'index.html');
  if (!existsSync(index)) return true;
  const built = statSync(index).mtimeMs;
  const installed = join(paths.root, 'node_modules', '.package-lock.json');
  const inputs = Math.max(newestMtime(paths.sources), existsSync(installed) ? statSync(installed).mtimeMs : 0);
  return inputs > built;
}

/** Runs `vite build` in a child process, into `outDir`; rejects with its output when it fails. */
function runViteBuild(paths: UiBuildPaths, outDir: string): Promise<void> {
  const vite = join(createRequire(join(paths.root, 'package.json')).resolve('vite/package.json'), '..', 'bin', 'vite.js');
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [vite, 'build', '--config', join(paths.sources, 'vite.config.ts'), '--outDir', outDir, '--emptyOutDir', '--logLevel', 'warn'],
      { cwd: paths.root, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_ENV: 'production' } },
    );
    let output = '';
    child.stdout.on('data', (c) => (output += c));
    child.stderr.on('data', (c) => (output += c));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`vite build exited with ${code}: ${output.trim().slice(-2000)}`))));
  });
}

const LOCK_STALE_MS = 5 * 60_000;

/**
 * Whether the process that took the build lock is gone. It writes its pid into the lock; a
 * process killed mid-build (Ctrl-C during the first start: the signal handlers come later)
 * leaves the lock behind, and the next start must not wait out LOCK_STALE_MS for it. A lock
 * with no pid yet is being taken (mkdir, then the write) unless it is older than a few seconds.
 */
function lockOwnerIsGone(lock: string, lockedAt: number): boolean {
  let pid: number;
  try {
    pid = Number(readFileSync(join(lock, 'pid'), 'utf8'));
  } catch {
    return Date.now() - lockedAt > 10_000;
  }
  if (!Number.isInteger(pid) || pid <= 0) return Date.now() - lockedAt > 10_000;
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/**
 * Builds `dist-ui/` if it is stale. Several processes may start at once (test workers, a
 * server and `npm run build`): one builds, holding a lock directory, into a directory of its
 * own that then replaces `dist-ui/` in one rename; the others wait for the lock and use what it
 * built. Answers whether this call built.
 */
export async function buildUiIfStale(paths: UiBuildPaths = DEFAULT_UI_PATHS, log?: Logger): Promise<boolean> {
  const lock = `${paths.out}.lock`;
  const deadline = Date.now() + LOCK_STALE_MS;
  let waiting = false;
  for (;;) {
    if (!uiBuildIsStale(paths)) return false;
    try {
      mkdirSync(lock);
      writeFileSync(join(lock, 'pid'), String(process.pid));
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const held = statSync(lock, { throwIfNoEntry: false });
      if (!held) continue; // released meanwhile
      // A lock older than any build, or whose process is gone, is abandoned: take it over.
      if (Date.now() - held.mtimeMs > LOCK_STALE_MS || lockOwnerIsGone(lock, held.mtimeMs)) {
        log?.warn({ lock }, 'taking over the web UI build lock: the process that held it is gone');
        rmSync(lock, { recursive: true, force: true });
      } else if (Date.now() > deadline) throw new Error(`timed out waiting for ${lock} (another process building the web UI)`, { cause: err });
      else {
        if (!waiting) log?.info({ lock }, 'waiting for another process building the web UI');
        waiting = true;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }
  const staging = `${paths.out}.build-${process.pid}`;
  try {
    if (!uiBuildIsStale(paths)) return false;
    const started = performance.now();
    log?.info({ sources: paths.sources }, 'building the web UI (its assets are missing or older than their sources)');
    await runViteBuild(paths, staging);
    rmSync(paths.out, { recursive: true, force: true });
    renameSync(staging, paths.out);
    log?.info({ ms: Math.round(performance.now() - started), out: paths.out }, 'web UI built');
    return true;
  } finally {
    rmSync(staging, { recursive: true, force: true });
    rmSync(lock, { recursive: true, force: true });
  }
}

/**
 * The assets the server serves at `/ui/`: built first when this is a clone and they are stale.
 * Answers undefined, saying why at WARN, when there is nothing to serve (the server still
 * starts: the API does not depend on the UI).
 */
export async function prepareUiAssets(log: Logger, paths: UiBuildPaths = DEFAULT_UI_PATHS): Promise<UiAssets | undefined> {
  try {
    if (existsSync(join(paths.sources, 'vite.config.ts'))) await buildUiIfStale(paths, log);
    if (!existsSync(join(paths.out, 'index.html'))) {
      log.warn({ expected: paths.out }, 'the web UI is not served: its assets are missing (`npm run build` makes them)');
      return undefined;
    }
    return loadUiAssets(paths.out);
  } catch (err) {
    log.error({ error: (err as Error).message }, 'the web UI is not served: its assets could not be built or read');
    return undefined;
  }
}
