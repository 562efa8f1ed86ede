import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, onTestFinished } from 'vitest';
import { tempDirForTest } from '../support/fixtures.js';
import { runProcess } from '../support/process.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** What production must never load: the TypeScript toolchain. */
const FORBIDDEN = ['tsx', 'typescript', 'esbuild'];

/**
 * Traps that make the process fail the moment it resolves tsx, TypeScript or esbuild, through
 * `require` (a preload) or `import` (a module.register resolve hook).
 */
function writeTraps(dir: string): { require: string; import: string } {
  const pattern = `/(^|[\\\\/]node_modules[\\\\/])(${FORBIDDEN.join('|')}|@esbuild)([\\\\/]|$)/`;
  writeFileSync(
    join(dir, 'trap.cjs'),
    `const Module = require('node:module');
const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  const found = resolve.call(this, request, ...rest);
  if (${pattern}.test(request) || ${pattern}.test(found)) throw new Error('forbidden in production: ' + request);
  return found;
};
`,
  );
  writeFileSync(
    join(dir, 'trap-hooks.mjs'),
    `export async function resolve(specifier, context, next) {
  if (${pattern}.test(specifier)) throw new Error('forbidden in production: ' + specifier);
  const found = await next(specifier, context);
  if (${pattern}.test(found.url)) throw new Error('forbidden in production: ' + specifier);
  return found;
}
`,
  );
  writeFileSync(join(dir, 'trap.mjs'), `import { register } from 'node:module';\nregister('./trap-hooks.mjs', import.meta.url);\n`);
  return { require: join(dir, 'trap.cjs'), import: join(dir, 'trap.mjs') };
}

/** Links the production dependencies (`npm ls --omit=dev`), and only those, into `dir/node_modules`. */
function linkProductionDependencies(dir: string): string[] {
  const listed = spawnSync('npm', ['ls', '--omit=dev', '--all', '--parseable'], { cwd: ROOT, encoding: 'utf8' }).stdout.split('\n');
  const modules = join(ROOT, 'node_modules');
  const linked: string[] = [];
  for (const path of listed) {
    const rel = relative(modules, path);
    if (!path || rel.startsWith('..') || rel.includes(`${sep}node_modules${sep}`)) continue;
    if (rel.split(sep).length > (rel.startsWith('@') ? 2 : 1)) continue;
    const target = join(dir, 'node_modules', rel);
    if (existsSync(target)) continue;
    mkdirSync(dirname(target), { recursive: true });
    symlinkSync(path, target, 'dir');
    linked.push(rel);
  }
  return linked;
}

describe('the compiled build', () => {
  it(
    '`npm run build` emits dist/, which serves with production dependencies only and never loads tsx, TypeScript or esbuild',
    { timeout: 300_000 },
    async () => {
      const dir = tempDirForTest('ferry-dist-');
      const build = runProcess('npm', ['run', '-s', 'build', '--', '--outDir', join(dir, 'dist')]);
      expect(await build.exited, build.stderr() + build.stdout()).toBe(0);
      // A packed release: all of bin/ (as package.json's `files` ships it), dist and package.json,
      // no src/ (so the bin runs dist/).
      cpSync(join(ROOT, 'bin'), join(dir, 'bin'), { recursive: true });
      copyFileSync(join(ROOT, 'package.json'), join(dir, 'package.json'));
      const linked = linkProductionDependencies(dir);
      expect(linked).toEqual(expect.arrayContaining(['fastify', 'better-sqlite3', 'pino', 'zod']));
      for (const name of FORBIDDEN) expect(linked).not.toContain(name);

      const traps = writeTraps(dir);
      // --preserve-symlinks: modules resolve from the linked tree, where only production dependencies are.
      const server = runProcess(process.execPath, [
        '--preserve-symlinks',
        '--require',
        traps.require,
        '--import',
        traps.import,
        join(dir, 'bin/ferry.js'),
        'server',
        '-dev',
        '-dev-listen-address=127.0.0.1:0',
        '-dev-root-token-id=root',
      ]);
      onTestFinished(() => server.stop());
      const [, addr] = await server.waitFor(/export VAULT_ADDR='(http:\/\/127\.0\.0\.1:\d+)'/, 60_000);
      expect((await fetch(`${addr}/v1/sys/health`)).status).toBe(200);
      const headers = { 'X-Vault-Token': 'root' };
      const put = await fetch(`${addr}/v1/secret/data/built`, { method: 'POST', headers, body: JSON.stringify({ data: { from: 'dist' } }) });
      expect(put.status).toBe(200);
      expect(((await (await fetch(`${addr}/v1/secret/data/built`, { headers })).json()) as any).data.data).toEqual({ from: 'dist' });
      expect(server.stderr()).not.toContain('forbidden in production');
    },
  );

  it('the trap the production run uses does stop a process that imports tsx', () => {
    const dir = tempDirForTest('ferry-trap-');
    const traps = writeTraps(dir);
    const run = spawnSync(process.execPath, ['--import', traps.import, '--input-type=module', '-e', "await import('tsx/esm/api')"], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain('forbidden in production: tsx/esm/api');
  });

  it('`npm pack` ships only what runs: bin/, dist/, the built web UI (dist-ui/), package.json, README and LICENSE', () => {
    const pack = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, encoding: 'utf8' });
    expect(pack.status, pack.stderr).toBe(0);
    const files = (JSON.parse(pack.stdout) as Array<{ files: Array<{ path: string }> }>)[0]!.files.map((f) => f.path);
    expect(files).toEqual(expect.arrayContaining(['bin/ferry.js', 'package.json', 'README.md', 'LICENSE']));
    for (const file of files) expect(file).toMatch(/^(bin\/|dist\/|dist-ui\/|package\.json$|README\.md$|LICENSE$)/);
  });

  it('`npm pack` builds dist/ first, so a pack of a fresh clone (no dist/) is not a bin without its code', () => {
    // npm runs lifecycle scripts through `--script-shell -c <script>`: a recording shell shows what
    // `npm pack` runs, without compiling anything.
    const dir = tempDirForTest('ferry-prepack-');
    const shell = join(dir, 'record.sh');
    writeFileSync(shell, `#!/bin/sh\nprintf '%s\\n' "$2" >> '${join(dir, 'ran')}'\n`, { mode: 0o755 });
    const pack = spawnSync('npm', ['pack', '--dry-run', '--json', `--script-shell=${shell}`], { cwd: ROOT, encoding: 'utf8' });
    expect(pack.status, pack.stderr).toBe(0);
    expect(readFileSync(join(dir, 'ran'), 'utf8').split('\n')).toContain('npm run -s build');
  });
});
