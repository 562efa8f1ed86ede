import { readdirSync, readFileSync } from 'node:fs';
import { extname, join, relative, sep } from 'node:path';

/**
 * The web UI's built assets (`dist-ui/`), held in memory and answered under `/ui/`. The UI is
 * a static single-page application that talks to Ferry only through `/v1`, so serving it is
 * a lookup in this map: no path from the request ever reaches the filesystem.
 */
export interface UiAssets {
  /** Relative path (`index.html`, `assets/index-1a2b3c.js`) → bytes and content type. */
  files: Map<string, { body: Buffer; type: string }>;
}

/** The answer to a request under `/ui/`, ready for the app to send. */
export interface UiResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer | string;
}

/**
 * The policy of every UI response: scripts, styles, images and API calls from Ferry's own
 * origin only (no CDN, no inline script or style), never framed, no plugins, forms only to
 * Ferry. `connect-src 'self'` is what keeps the UI talking to nothing but this server.
 */
export const UI_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
  '.woff2': 'font/woff2',
};

const SECURITY_HEADERS = {
  'content-security-policy': UI_CSP,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
};

/** Reads every file of a built UI directory into memory; throws when it has no `index.html`. */
export function loadUiAssets(dir: string): UiAssets {
  const files = new Map<string, { body: Buffer; type: string }>();
  const walk = (at: string) => {
    for (const entry of readdirSync(at, { withFileTypes: true })) {
      const path = join(at, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile()) {
        files.set(relative(dir, path).split(sep).join('/'), { body: readFileSync(path), type: TYPES[extname(entry.name)] ?? 'application/octet-stream' });
      }
    }
  };
  walk(dir);
  if (!files.has('index.html')) throw new Error(`${dir} holds no index.html`);
  return { files };
}

/**
 * Answers `GET /ui/<rest>`. Hashed build outputs (`assets/…`) are cached for good, since a new
 * build gives them new names; anything else that is not a file is a page of the application
 * (`/ui/sync/aws-sm/prod`), answered with `index.html`, never cached, so a new build is picked
 * up at the next load.
 */
export function uiResponse(assets: UiAssets, url: string): UiResponse {
  const pathOnly = url.split('?')[0]!.split('#')[0]!;
  let rest: string;
  try {
    rest = decodeURIComponent(pathOnly.replace(/^\/ui\/?/, ''));
  } catch {
    rest = '';
  }
  const file = rest === '' ? undefined : assets.files.get(rest);
  if (file) {
    const immutable = rest.startsWith('assets/');
    return {
      status: 200,
      headers: { ...SECURITY_HEADERS, 'content-type': file.type, 'cache-control': immutable ? 'public, max-age=31536000, immutable' : 'no-cache' },
      body: file.body,
    };
  }
  // A missing build output is a 404, not the application: a stale page asking for an old
  // chunk should fail plainly rather than get HTML for JavaScript.
  if (rest.startsWith('assets/') || extname(rest) !== '') {
    return { status: 404, headers: { ...SECURITY_HEADERS, 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' }, body: 'not found\n' };
  }
  const index = assets.files.get('index.html')!;
  return { status: 200, headers: { ...SECURITY_HEADERS, 'content-type': index.type, 'cache-control': 'no-store' }, body: index.body };
}
