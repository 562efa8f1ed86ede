import { expect } from 'vitest';
import { startTestServer, type TestServer } from '../support/app.js';
import { manualClock, type ManualClock } from '../support/clock.js';
import { perTest } from '../support/fixtures.js';

/** A fresh dev server on a manual clock for every test of the calling file. */
export function useClockedServer(): TestServer & { clock: ManualClock } {
  return perTest(
    'the auth test server',
    async () => {
      const clock = manualClock();
      return Object.assign(await startTestServer({ clock }), { clock });
    },
    (t) => t.close(),
  );
}

/** The accessors of every live token (to show that a refused login created none). */
export async function liveTokens(t: TestServer): Promise<string[]> {
  const res = await t.call('GET', '/v1/auth/token/accessors?list=true');
  return res.statusCode === 404 ? [] : (res.json().data.keys as string[]).sort();
}

/** Enables an auth method as `vault auth enable` does (root token). */
export async function enableAuth(t: TestServer, type: string, path = type, config: Record<string, unknown> = {}): Promise<void> {
  const res = await t.call('POST', `/v1/sys/auth/${path}`, { body: { type, config } });
  expect(res.statusCode, res.body).toBe(204);
}

/** Writes an AppRole role (root) and returns its role ID. */
export async function approleRole(t: TestServer, name: string, body: Record<string, unknown> = {}, mount = 'approle'): Promise<string> {
  const write = await t.call('POST', `/v1/auth/${mount}/role/${name}`, { body });
  expect(write.statusCode, write.body).toBeLessThan(300);
  const read = await t.call('GET', `/v1/auth/${mount}/role/${name}/role-id`);
  expect(read.statusCode, read.body).toBe(200);
  return read.json().data.role_id as string;
}

/** Generates a secret ID for a role (root) and returns the response data. */
export async function secretIdFor(
  t: TestServer,
  name: string,
  body: Record<string, unknown> = {},
  mount = 'approle',
): Promise<{ secret_id: string; secret_id_accessor: string; secret_id_ttl: number; secret_id_num_uses: number }> {
  const res = await t.call('POST', `/v1/auth/${mount}/role/${name}/secret-id`, { body });
  expect(res.statusCode, res.body).toBe(200);
  return res.json().data;
}

/** An unauthenticated login request, as a client that has no token yet sends it. */
export function login(t: TestServer, path: string, body: Record<string, unknown>, remoteAddress?: string) {
  return t.app
    .inject({ method: 'PUT', url: `/v1/${path}`, payload: JSON.stringify(body), ...(remoteAddress ? { remoteAddress } : {}) })
    .then((res) => Object.assign(res, { json: () => JSON.parse(res.body) as any }));
}

/** A request with `token` from a given peer address (bound-CIDR checks). */
export function callFrom(t: TestServer, remoteAddress: string, method: 'GET' | 'POST', url: string, token: string) {
  return t.app.inject({ method, url, headers: { 'x-vault-token': token }, remoteAddress });
}

/** The fields of an auth block the Go client decodes (api.SecretAuth), with their JSON types. */
export function expectAuthBlock(auth: any): void {
  expect(typeof auth.client_token).toBe('string');
  expect(auth.client_token).toMatch(/^hvs\./);
  expect(typeof auth.accessor).toBe('string');
  expect(Array.isArray(auth.policies)).toBe(true);
  expect(Array.isArray(auth.token_policies)).toBe(true);
  expect(auth.metadata === null || Object.values(auth.metadata).every((v) => typeof v === 'string')).toBe(true);
  expect(Number.isInteger(auth.lease_duration)).toBe(true);
  expect(typeof auth.renewable).toBe('boolean');
  expect(auth.orphan).toBe(true);
  expect(auth.entity_id).toBe('');
  expect(auth.token_type).toBe('service');
  expect(Number.isInteger(auth.num_uses)).toBe(true);
}
