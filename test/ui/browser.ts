import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import AxeBuilder from '@axe-core/playwright';
import { buildApp } from '../../src/app.js';
import { createServer, type Server } from '../../src/compose.js';
import { listen, type RunningListener } from '../../src/http/server.js';
import { prepareUiAssets } from '../../src/ui-build.js';
import { startAwsEmulator, type AwsEmulator } from '../support/aws-emulator/index.js';

/**
 * What the web UI's browser tests share: Debian's Chromium driven by playwright-core, a Ferry
 * dev server serving the UI (built if stale) beside the AWS emulator, and the page's console,
 * errors and requests recorded for the checks every test ends with.
 */

/** Where Debian's `chromium` package puts the browser; `FERRY_CHROMIUM` overrides. */
export const CHROMIUM = process.env.FERRY_CHROMIUM ?? '/usr/bin/chromium';
export const CHROMIUM_MISSING = existsSync(CHROMIUM)
  ? undefined
  : `Chromium is not installed at ${CHROMIUM}: the web UI browser tests are skipped (apt-get install -y chromium; .ci/run does it)`;

/** The flags of a quiet, offline-capable headless Chromium: no first-run, sync, updates or background traffic. */
export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/**
 * Screenshots for the README go to docs/screenshots/ when UPDATE_SCREENSHOTS=1 (so a test run
 * does not rewrite committed files); otherwise they are still taken, into a temporary directory.
 */
const UPDATE_SCREENSHOTS = process.env.UPDATE_SCREENSHOTS === '1';

export interface UiHarness {
  url: string;
  emu: AwsEmulator;
  server: Server;
  browser: Browser;
  /** Every log line the server wrote (debug level), to check no value reaches a log. */
  logs: string[];
  /** Console messages of level error or warning, page errors and failed requests, per page. */
  problems: string[];
  /** Every URL a page of this browser requested. */
  requests: string[];
  /** `status METHOD path` of every answer of 400 or more a page received (denials and Vault's 404s for "nothing"). */
  httpErrors: string[];
  /** Takes a screenshot of the page's viewport as `<name>.png` (docs/screenshots/ with UPDATE_SCREENSHOTS=1). */
  screenshot(page: Page, name: string): Promise<string>;
  /** A fresh context (its own session storage) and page, recorded. */
  newPage(options?: { viewport?: { width: number; height: number }; deviceScaleFactor?: number }): Promise<{ context: BrowserContext; page: Page }>;
  /** Sends a request to Ferry's API (root token unless `token` says otherwise). */
  api(method: string, path: string, body?: unknown, token?: string): Promise<{ status: number; body: any }>;
  close(): Promise<void>;
}

export async function startUiHarness(): Promise<UiHarness> {
  const logs: string[] = [];
  const log = pino(
    { level: 'debug' },
    new Writable({
      write(chunk, _enc, done) {
        logs.push(String(chunk));
        done();
      },
    }),
  );
  const uiAssets = await prepareUiAssets(log);
  if (!uiAssets) throw new Error(`the web UI could not be built: ${logs.join('')}`);
  const emu = await startAwsEmulator({});
  const server = await createServer({ storagePath: ':memory:', dev: true, devRootTokenId: 'root', logger: log, syncWorker: {} });
  server.sync.worker.start();
  const app = await buildApp({ ...server.core, uiAssets });
  const listener: RunningListener = await listen(app, { address: '127.0.0.1:0', tlsDisable: true });
  server.core.info.apiAddr = listener.url;
  // launch() runs the browser on a fresh temporary user-data-dir of its own, removed at close:
  // no profile state is carried between runs (Playwright refuses a --user-data-dir flag here).
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_FLAGS });
  const problems: string[] = [];
  const requests: string[] = [];
  const httpErrors: string[] = [];
  const contexts: BrowserContext[] = [];
  const shots = UPDATE_SCREENSHOTS ? join(ROOT, 'docs/screenshots') : mkdtempSync(join(tmpdir(), 'ferry-ui-shots-'));
  mkdirSync(shots, { recursive: true });
  return {
    url: listener.url,
    emu,
    server,
    browser,
    logs,
    problems,
    requests,
    httpErrors,
    screenshot: async (page, name) => {
      const path = join(shots, `${name}.png`);
      await page.screenshot({ path, animations: 'disabled', caret: 'hide' });
      return path;
    },
    newPage: async (options = {}) => {
      const context = await browser.newContext({ viewport: options.viewport ?? { width: 1280, height: 860 }, deviceScaleFactor: options.deviceScaleFactor ?? 1 });
      contexts.push(context);
      const page = await context.newPage();
      // A step that waits longer than this is a failure, not a slow machine: the UI polls every 2 s.
      page.setDefaultTimeout(15_000);
      page.on('console', (m) => {
        // Chromium logs each answer of 400 or more as "Failed to load resource": those are in
        // httpErrors, where each test says which it expects (Vault answers "nothing listed"
        // with a 404, a sealed server with 503); the UI itself logs nothing.
        if (/^Failed to load resource: the server responded with a status of \d{3}/.test(m.text())) return;
        if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
      });
      page.on('response', (r) => {
        if (r.status() >= 400) httpErrors.push(`${r.status()} ${r.request().method()} ${new URL(r.url()).pathname}`);
      });
      page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
      page.on('request', (r) => requests.push(r.url()));
      page.on('requestfailed', (r) => {
        // A poll in flight when the test navigates (page.goto, reload) is aborted by the browser.
        if (r.failure()?.errorText === 'net::ERR_ABORTED') return;
        problems.push(`request failed: ${r.url()} ${r.failure()?.errorText ?? ''}`);
      });
      return { context, page };
    },
    api: async (method, path, body, token = 'root') => {
      const res = await fetch(`${listener.url}/v1/${path}`, {
        method,
        headers: { 'X-Vault-Token': token },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : undefined };
    },
    close: async () => {
      for (const c of contexts) await c.close().catch(() => undefined);
      await browser.close().catch(() => undefined);
      await listener.close();
      await server.close();
      await emu.close();
      if (!UPDATE_SCREENSHOTS) rmSync(shots, { recursive: true, force: true });
    },
  };
}

/** axe-core's serious and critical violations on the page as it is now (none expected). */
export async function seriousA11yViolations(page: Page): Promise<string[]> {
  const result = await new AxeBuilder({ page } as any).analyze();
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

/** Signs in with a token on the sign-in page (the page must be at /ui/). */
export async function signInWithToken(page: Page, token: string): Promise<void> {
  await page.getByRole('textbox', { name: 'Token' }).fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
}

/**
 * Presses Tab until the focused element matches `matches` (at most `max` times): a keyboard-only
 * user's way of reaching a control. Answers how many presses it took; throws if never reached.
 */
export async function tabTo(page: Page, what: string, matches: (el: { tag: string; text: string; label: string }) => boolean, max = 60): Promise<number> {
  for (let i = 1; i <= max; i++) {
    await page.keyboard.press('Tab');
    const el = await page.evaluate(() => {
      const a = (globalThis as any).document.activeElement as any;
      if (!a) return { tag: '', text: '', label: '' };
      const id = a.id;
      const label = (id && (globalThis as any).document.querySelector(`label[for="${(globalThis as any).CSS.escape(id)}"]`)?.textContent) || a.getAttribute('aria-label') || '';
      return { tag: a.tagName.toLowerCase(), text: (a.textContent ?? '').trim(), label: label.trim() };
    });
    if (matches(el)) return i;
  }
  throw new Error(`Tab never reached ${what} in ${max} presses`);
}
