import { expect } from 'vitest';
import { startTestServer, type TestServer } from '../support/app.js';
import { HOUR, manualClock, type ManualClock } from '../support/clock.js';
import { perTest } from '../support/fixtures.js';
import type { KvChangeEvent } from '../../src/kv/index.js';
import { LIST_MARKER_HEADER } from '../../src/http/wire.js';

export { HOUR };

/** 2025-01-07T09:15:02.117Z: a fixed start so timestamps are exact. */
export const T0 = Date.UTC(2025, 0, 7, 9, 15, 2, 117);

/** A test server whose clock starts at T0 and only moves when the test says so (no sleeps). */
export interface KvTestServer extends TestServer {
  clock: ManualClock;
}

/**
 * A fresh dev server (KV v2 at `secret/`) on an in-memory store. `app.inject` cannot send the
 * LIST verb, so `call('LIST', …)` sends what the socket layer turns LIST into: a GET with
 * the marker header (the verb itself is exercised over a real socket in e2e.test.ts).
 */
export async function startKv(opts: { maxRequestSize?: number } = {}): Promise<KvTestServer> {
  const clock = manualClock(T0);
  const t = await startTestServer({ clock, ...opts });
  const call = t.call;
  t.call = (method, path, o = {}) =>
    method === 'LIST' ? call('GET', path, { ...o, headers: { ...(o.headers ?? {}), [LIST_MARKER_HEADER]: '1' } }) : call(method, path, o);
  return Object.assign(t, { clock });
}

/** A fresh `startKv` server for every test of the calling file, closed after it. */
export function useKv(): KvTestServer {
  return perTest('the KV test server', () => startKv(), (t) => t.close());
}

/** RFC 3339 as Go prints it: fraction without trailing zeros, no fraction when zero. */
export const iso = (ms: number): string =>
  new Date(ms).toISOString().replace(/\.(\d*?)0*Z$/, (_m, f: string) => (f === '' ? 'Z' : `.${f}Z`));

/** The success envelope Vault wraps every logical response in, in its key order. */
export function envelope(data: unknown, opts: { warnings?: string[] | null; mountType?: string } = {}) {
  return {
    request_id: expect.stringMatching(/^[0-9a-f-]{36}$/),
    lease_id: '',
    renewable: false,
    lease_duration: 0,
    data,
    wrap_info: null,
    warnings: opts.warnings ?? null,
    auth: null,
    mount_type: opts.mountType ?? 'kv',
  };
}

export interface VersionMetadata {
  created_time: string;
  custom_metadata: Record<string, string> | null;
  deletion_time: string;
  destroyed: boolean;
  version: number;
}

/** The metadata of one version as write responses and `data.metadata` carry it. */
export function versionMeta(version: number, created: number, o: { deletion?: number | null; destroyed?: boolean; custom?: Record<string, string> | null } = {}) {
  return {
    created_time: iso(created),
    custom_metadata: o.custom ?? null,
    deletion_time: o.deletion ? iso(o.deletion) : '',
    destroyed: o.destroyed ?? false,
    version,
  };
}

export const MERGE_PATCH = { 'content-type': 'application/merge-patch+json' };

export async function put(t: TestServer, path: string, data: Record<string, unknown>, options: Record<string, unknown> = {}) {
  const res = await t.call('PUT', `/v1/secret/data/${path}`, { body: { data, options } });
  expect(res.statusCode, res.body).toBe(200);
  return res.json().data as VersionMetadata;
}

/** The pending `kv-events` outbox, decoded. */
export async function events(t: TestServer): Promise<KvChangeEvent[]> {
  const items = await t.server.core.store.pendingOutbox('kv-events');
  return items.map((i) => JSON.parse(i.payload) as KvChangeEvent);
}

/** Expects the body to be exactly Vault's empty-errors 404. */
export function expectNotFound(res: { statusCode: number; body: string; headers: Record<string, unknown> }): void {
  expect(res.statusCode).toBe(404);
  expect(res.headers['content-type']).toBe('application/json');
  expect(JSON.parse(res.body)).toEqual({ errors: [] });
}

export function expectError(res: { statusCode: number; body: string }, status: number, message: string): void {
  expect(res.statusCode, res.body).toBe(status);
  expect(JSON.parse(res.body)).toEqual({ errors: [message] });
}
