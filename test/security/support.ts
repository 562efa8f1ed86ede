import { expect } from 'vitest';
import { startTestServer, type TestServer, type TestServerOptions } from '../support/app.js';

/** Headers the `vault` CLI sends on every request (cli-flows.md §0): no Content-Type. */
export const CLI_HEADERS = { 'x-vault-request': 'true', 'user-agent': 'Go-http-client/1.1' };

/** A persistent (non-dev) server on a SQLite file: uninitialised on first start, sealed afterwards. */
export function startPersistent(file: string, opts: TestServerOptions = {}): Promise<TestServer> {
  return startTestServer({ storagePath: file, dev: false, ...opts });
}

/** `PUT sys/init` then every share to `sys/unseal`; returns the init response. */
export async function initAndUnseal(
  t: TestServer,
  shares = 1,
  threshold = 1,
): Promise<{ keys: string[]; keys_base64: string[]; root_token: string }> {
  const init = await t.call('PUT', '/v1/sys/init', { token: null, body: { secret_shares: shares, secret_threshold: threshold } });
  expect(init.statusCode).toBe(200);
  const body = init.json();
  for (const key of body.keys_base64.slice(0, threshold)) {
    const res = await t.call('PUT', '/v1/sys/unseal', { token: null, body: { key } });
    expect(res.statusCode).toBe(200);
  }
  expect(t.server.core.seal.status().sealed).toBe(false);
  return body;
}

/**
 * Writes a policy and creates a token holding it (plus `default`), the way a test or a
 * benchmark gets a non-root token. Returns the token id.
 */
export async function tokenWithPolicy(t: TestServer, name: string, hcl: string, root = t.rootToken, extra: Record<string, unknown> = {}): Promise<string> {
  const put = await t.call('PUT', `/v1/sys/policies/acl/${name}`, { token: root, body: { policy: hcl } });
  expect(put.statusCode, put.body).toBe(204);
  const res = await t.call('POST', '/v1/auth/token/create', { token: root, body: { policies: [name], ...extra } });
  expect(res.statusCode, res.body).toBe(200);
  return res.json().auth.client_token as string;
}

/** Every encoding of `needle` a test can look for in a file: plain, hex (both cases), base64 at each alignment. */
export function encodings(needle: string): string[] {
  const bytes = Buffer.from(needle);
  const out = [needle, bytes.toString('hex'), bytes.toString('hex').toUpperCase(), bytes.toString('base64url')];
  for (let pad = 0; pad < 3; pad++) {
    // Inside a longer base64 text the needle's encoding depends on its offset mod 3;
    // drop the edge characters that mix with the neighbours.
    const b64 = Buffer.concat([Buffer.alloc(pad, 0x41), bytes]).toString('base64').replace(/=+$/, '');
    const start = pad === 0 ? 0 : Math.ceil((pad * 4) / 3);
    out.push(b64.slice(start, b64.length - 2));
  }
  return out;
}

/** The encodings of `needle` that occur in `haystack` (a file read as bytes). */
export function leaks(haystack: Buffer, needle: string): string[] {
  const text = haystack.toString('latin1');
  return encodings(needle).filter((e) => e.length >= 8 && text.includes(e));
}
