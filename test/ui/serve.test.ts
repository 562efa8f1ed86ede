import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { buildApp } from '../../src/app.js';
import { createServer } from '../../src/compose.js';
import { loadUiAssets, UI_CSP } from '../../src/http/ui-assets.js';
import { buildUiIfStale, DEFAULT_UI_PATHS, uiBuildIsStale } from '../../src/ui-build.js';
import { closeAfterTest, tempDirForTest } from '../support/fixtures.js';
import { FERRY_BIN, runProcess } from '../support/process.js';

/** The built assets (vitest's global setup builds them when stale: test/support/build-ui.ts). */
const built = () => loadUiAssets(DEFAULT_UI_PATHS.out);

async function appWith({ ui = true } = {}) {
  const server = await createServer({ storagePath: ':memory:', dev: true, devRootTokenId: 'root' });
  const app = await buildApp({ ...server.core, uiAssets: ui ? built() : undefined });
  closeAfterTest({ close: async () => (await app.close(), await server.close()) });
  return app;
}

describe('serving the web UI at /ui/', () => {
  it('/ui redirects to /ui/, which answers the application under the strict CSP, never cached', async () => {
    const app = await appWith();
    const redirect = await app.inject({ method: 'GET', url: '/ui' });
    expect(redirect.statusCode).toBe(307);
    expect(redirect.headers.location).toBe('/ui/');
    const index = await app.inject({ method: 'GET', url: '/ui/' });
    expect(index.statusCode).toBe(200);
    expect(index.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(index.headers['content-security-policy']).toBe(UI_CSP);
    expect(UI_CSP).toContain("default-src 'self'");
    expect(UI_CSP).toContain("frame-ancestors 'none'");
    expect(UI_CSP).not.toContain('unsafe-inline');
    expect(index.headers['x-frame-options']).toBe('DENY');
    expect(index.headers['x-content-type-options']).toBe('nosniff');
    expect(index.headers['cache-control']).toBe('no-store');
    expect(index.body).toContain('<div id="app"></div>');
    const head = await app.inject({ method: 'HEAD', url: '/ui/sync' });
    expect(head.statusCode).toBe(200);
    expect(head.headers['content-security-policy']).toBe(UI_CSP);
    expect(head.body).toBe('');
  });

  it("a page of the application (a deep link) is the application; the hashed assets are cached for good; a missing asset is a 404", async () => {
    const app = await appWith();
    const deep = await app.inject({ method: 'GET', url: '/ui/sync/aws-sm/prod?x=1' });
    expect(deep.statusCode).toBe(200);
    expect(deep.body).toContain('<div id="app"></div>');
    const script = /<script type="module" crossorigin src="\/ui\/(assets\/[^"]+\.js)"/.exec(deep.body);
    expect(script, deep.body).not.toBeNull();
    const js = await app.inject({ method: 'GET', url: `/ui/${script![1]}` });
    expect(js.statusCode).toBe(200);
    expect(js.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(js.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(js.headers['content-security-policy']).toBe(UI_CSP);
    for (const url of ['/ui/assets/index-missing.js', '/ui/nothing.png']) {
      const res = await app.inject({ method: 'GET', url });
      expect(res.statusCode, url).toBe(404);
      expect(res.headers['content-security-policy']).toBe(UI_CSP);
    }
  });

  it('nothing outside the built assets is reachable through /ui/', async () => {
    const app = await appWith();
    for (const url of ['/ui/../package.json', '/ui/%2e%2e/package.json', '/ui/..%2fpackage.json', '/ui/%2e%2e%2fsrc%2fmain.ts']) {
      const res = await app.inject({ method: 'GET', url });
      expect(res.body, url).not.toContain('"name": "ferry"');
      expect(res.body, url).not.toContain('runServer');
    }
  });

  it('the built page has no inline script or style and loads nothing from another origin (what the CSP requires)', () => {
    const { files } = built();
    const html = files.get('index.html')!.body.toString();
    expect(html).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>/);
    expect(html).not.toMatch(/<style/);
    expect(html).not.toMatch(/\sstyle=/);
    for (const [name, file] of files) {
      const text = file.body.toString();
      expect(text, name).not.toMatch(/(src|href)="(https?:)?\/\//);
      if (name.endsWith('.css')) expect(text, name).not.toMatch(/@import|url\((['"]?)(https?:)?\/\//);
    }
  });

  it('without assets (ui off) /ui/ is Vault\'s 404', async () => {
    const app = await appWith({ ui: false });
    const res = await app.inject({ method: 'GET', url: '/ui/' });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ errors: [] });
  });
});

describe('building the web UI at start', () => {
  it('is stale when the build is missing, older than a source, or older than the last npm install', () => {
    const dir = tempDirForTest('ferry-ui-stale-');
    const paths = { sources: join(dir, 'ui'), out: join(dir, 'dist-ui'), root: dir };
    mkdirSync(join(paths.sources, 'src'), { recursive: true });
    writeFileSync(join(paths.sources, 'src/main.tsx'), '');
    expect(uiBuildIsStale(paths)).toBe(true);
    mkdirSync(paths.out);
    writeFileSync(join(paths.out, 'index.html'), '');
    const t = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s));
    utimesSync(join(paths.sources, 'src/main.tsx'), t(1), t(1));
    utimesSync(join(paths.out, 'index.html'), t(2), t(2));
    expect(uiBuildIsStale(paths)).toBe(false);
    utimesSync(join(paths.sources, 'src/main.tsx'), t(3), t(3));
    expect(uiBuildIsStale(paths)).toBe(true);
    utimesSync(join(paths.out, 'index.html'), t(4), t(4));
    mkdirSync(join(dir, 'node_modules'));
    writeFileSync(join(dir, 'node_modules/.package-lock.json'), '{}');
    utimesSync(join(dir, 'node_modules/.package-lock.json'), t(5), t(5));
    expect(uiBuildIsStale(paths)).toBe(true);
  });

  it('a build lock left by a process that died (Ctrl-C during the first start) does not hold the next start', async () => {
    // The signal handlers come after the build: a Ctrl-C during it leaves `dist-ui.lock` behind.
    // The next start must not wait out the 5-minute staleness of the lock with no word.
    const dir = tempDirForTest('ferry-ui-lock-');
    const paths = { ...DEFAULT_UI_PATHS, out: join(dir, 'dist-ui') };
    const dead = spawnSync(process.execPath, ['-e', '']).pid!;
    mkdirSync(`${paths.out}.lock`);
    writeFileSync(join(`${paths.out}.lock`, 'pid'), String(dead));
    const started = Date.now();
    expect(await buildUiIfStale(paths)).toBe(true);
    expect(existsSync(join(paths.out, 'index.html'))).toBe(true);
    expect(existsSync(`${paths.out}.lock`)).toBe(false);
    expect(Date.now() - started).toBeLessThan(60_000);
  }, 90_000);

  it('`ferry server -dev` serves the UI at /ui/ and says where; a configuration without `ui = true` does not', async () => {
    const dev = runProcess(process.execPath, [FERRY_BIN, 'server', '-dev', '-dev-listen-address=127.0.0.1:0', '-dev-root-token-id=root']);
    onTestFinished(() => dev.stop());
    const [, addr] = await dev.waitFor(/Web UI: (http:\/\/127\.0\.0\.1:\d+)\/ui\//, 60_000);
    const page = await fetch(`${addr}/ui/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toBe(UI_CSP);

    const dir = tempDirForTest('ferry-ui-config-');
    const config = join(dir, 'ferry.hcl');
    writeFileSync(config, `listener "tcp" {\n  address = "127.0.0.1:0"\n  tls_disable = true\n}\nstorage "sqlite" {\n  path = "${join(dir, 'ferry.db')}"\n}\n`);
    const plain = runProcess(process.execPath, [FERRY_BIN, 'server', `-config=${config}`]);
    onTestFinished(() => plain.stop());
    const [, url] = await plain.waitFor(/Api Address: (http:\/\/127\.0\.0\.1:\d+)[\s\S]*Web UI: off/, 60_000);
    expect((await fetch(`${url}/ui/`)).status).toBe(404);
    expect(readFileSync(config, 'utf8')).not.toMatch(/^\s*ui\s*=/m);
    await plain.stop();

    // The same configuration with `ui = true` serves it.
    writeFileSync(config, `${readFileSync(config, 'utf8')}ui = true\n`);
    const withUi = runProcess(process.execPath, [FERRY_BIN, 'server', `-config=${config}`]);
    onTestFinished(() => withUi.stop());
    const [, uiUrl] = await withUi.waitFor(/Web UI: (http:\/\/127\.0\.0\.1:\d+)\/ui\//, 60_000);
    expect((await fetch(`${uiUrl}/ui/`)).status).toBe(200);
  }, 120_000);
});
