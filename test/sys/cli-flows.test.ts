import { describe, expect, it } from 'vitest';
import { useTestServer } from '../support/fixtures.js';

/**
 * Replays of the `vault` CLI's request sequences (cli-flows.md §1–3): same methods,
 * headers (X-Vault-Request, no Content-Type on PUT/POST) and string-typed bodies, checking
 * every response field the CLI reads, with the type it decodes into.
 */
const t = useTestServer();

const cli = (token: string | null = 'root') => ({
  token,
  headers: { 'x-vault-request': 'true', 'user-agent': 'Go-http-client/1.1' },
});

describe('vault status', () => {
  it('gets seal-status with every field the CLI reads', async () => {
    const res = await t.call('GET', '/v1/sys/seal-status', cli(null));
    expect(res.statusCode).toBe(200);
    const b = res.json();
    expect(b).toMatchObject({ type: 'shamir', initialized: true, sealed: false, migration: false, recovery_seal: false });
    for (const k of ['t', 'n', 'progress']) expect(Number.isInteger(b[k])).toBe(true);
    for (const k of ['nonce', 'version', 'build_date', 'storage_type', 'cluster_name', 'cluster_id']) expect(typeof b[k]).toBe('string');
    expect(b.request_id).toBeUndefined();
  });

  it('gets sys/leader with a valid RFC3339 active_time', async () => {
    const res = await t.call('GET', '/v1/sys/leader', cli(null));
    expect(res.statusCode).toBe(200);
    const b = res.json();
    expect(b).toEqual({
      ha_enabled: false,
      is_self: false,
      active_time: '0001-01-01T00:00:00Z',
      leader_address: '',
      leader_cluster_address: '',
      performance_standby: false,
      performance_standby_last_remote_wal: 0,
    });
  });

  it('answers sys/health with the status code and a raw body; HEAD without a body', async () => {
    const res = await t.call('GET', '/v1/sys/health', cli(null));
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ initialized: true, sealed: false, standby: false, enterprise: false });
    expect(Number.isInteger(res.json().server_time_utc)).toBe(true);
    const head = await t.app.inject({ method: 'HEAD', url: '/v1/sys/health' });
    expect(head.statusCode).toBe(200);
    expect(head.body).toBe('');
    const custom = await t.call('GET', '/v1/sys/health?activecode=299', cli(null));
    expect(custom.statusCode).toBe(299);
  });
});

describe('vault login <token>', () => {
  it('looks up the token with every field the CLI type-asserts', async () => {
    const res = await t.call('GET', '/v1/auth/token/lookup-self', cli('root'));
    expect(res.statusCode).toBe(200);
    const d = res.json().data;
    expect(d.id).toBe('root');
    expect(typeof d.accessor).toBe('string');
    expect(d.policies).toEqual(['root']);
    expect(d.meta).toBeNull();
    expect(d.ttl).toBe(0);
    expect(d.renewable).toBe(false);
    expect(d.path).toBe('auth/token/root');
    expect(Number.isInteger(d.creation_time)).toBe(true);
    expect(d.expire_time).toBeNull();
  });

  it('answers 403 for an invalid token', async () => {
    const res = await t.call('GET', '/v1/auth/token/lookup-self', cli('hvs.invalid'));
    expect(res.statusCode).toBe(403);
    expect(res.json().errors).toContain('permission denied');
  });
});

describe('vault secrets enable|list|disable', () => {
  const enableBody = {
    type: 'kv-v2',
    description: '',
    config: { options: null, default_lease_ttl: '0s', max_lease_ttl: '0s', force_no_cache: false },
    local: false,
    seal_wrap: false,
    external_entropy_access: false,
    options: null,
  };

  it('enables kv-v2 at my-kv with the CLI body and answers 204', async () => {
    const res = await t.call('POST', '/v1/sys/mounts/my-kv', { ...cli(), body: enableBody });
    expect(res.statusCode).toBe(204);
  });

  it('enables kv with -version=2 as options.version', async () => {
    const res = await t.call('POST', '/v1/sys/mounts/my-kv', { ...cli(), body: { ...enableBody, type: 'kv', options: { version: '2' } } });
    expect(res.statusCode).toBe(204);
    expect((await t.call('GET', '/v1/sys/mounts/my-kv')).json().data.options).toEqual({ version: '2' });
  });

  it('accepts a numeric options.version as hvac users send it', async () => {
    await t.call('POST', '/v1/sys/mounts/h', { body: { type: 'kv', options: { version: 2 } } });
    expect((await t.call('GET', '/v1/sys/mounts/h')).json().data.options).toEqual({ version: '2' });
  });

  it('refuses a path already in use with Vault text', async () => {
    await t.call('POST', '/v1/sys/mounts/my-kv', { ...cli(), body: enableBody });
    const res = await t.call('POST', '/v1/sys/mounts/my-kv', { ...cli(), body: enableBody });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ errors: ['path is already in use at my-kv/'] });
  });

  it('refuses an overlapping mount', async () => {
    await t.call('POST', '/v1/sys/mounts/team', { body: { type: 'kv' } });
    const res = await t.call('POST', '/v1/sys/mounts/team/kv', { body: { type: 'kv' } });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ errors: ['existing mount at team/'] });
  });

  it('refuses an unknown engine type and a missing type', async () => {
    const unknown = await t.call('POST', '/v1/sys/mounts/x', { body: { type: 'nosuch' } });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json()).toEqual({ errors: ['plugin not found in the catalog: nosuch'] });
    const missing = await t.call('POST', '/v1/sys/mounts/x', { body: {} });
    expect(missing.statusCode).toBe(400);
    expect(missing.json()).toEqual({ errors: ['backend type must be specified as a string'] });
  });

  it('refuses reserved paths', async () => {
    for (const p of ['sys/x', 'auth/x', 'cubbyhole/x', 'identity/x']) {
      const res = await t.call('POST', `/v1/sys/mounts/${p}`, { body: { type: 'kv' } });
      expect(res.statusCode, p).toBe(400);
    }
  });

  it('lists mounts as the CLI decodes them strictly', async () => {
    await t.call('POST', '/v1/sys/mounts/my-kv', { ...cli(), body: enableBody });
    const res = await t.call('GET', '/v1/sys/mounts', cli());
    expect(res.statusCode).toBe(200);
    const data = res.json().data;
    expect(Object.keys(data).sort()).toEqual(['cubbyhole/', 'identity/', 'my-kv/', 'secret/', 'sys/']);
    for (const [path, m] of Object.entries<any>(data)) {
      expect(typeof m.type, path).toBe('string');
      expect(m.accessor, path).toMatch(/^[a-z]+_[0-9a-f]{8}$/);
      expect(typeof m.description).toBe('string');
      expect(Number.isInteger(m.config.default_lease_ttl)).toBe(true);
      expect(Number.isInteger(m.config.max_lease_ttl)).toBe(true);
      expect(m.options === null || Object.values(m.options).every((v) => typeof v === 'string')).toBe(true);
      for (const b of ['local', 'seal_wrap', 'external_entropy_access']) expect(typeof m[b]).toBe('boolean');
    }
    expect(data['my-kv/']).toMatchObject({ type: 'kv', options: { version: '2' } });
    expect(data['cubbyhole/']).toMatchObject({ type: 'cubbyhole', local: true });
  });

  it('disables a mount with 204, also when nothing was mounted', async () => {
    await t.call('POST', '/v1/sys/mounts/my-kv', { ...cli(), body: enableBody });
    expect((await t.call('DELETE', '/v1/sys/mounts/my-kv', cli())).statusCode).toBe(204);
    expect((await t.call('GET', '/v1/sys/mounts/my-kv')).json()).toEqual({ errors: ['No secret engine mount at my-kv/'] });
    expect((await t.call('DELETE', '/v1/sys/mounts/my-kv', cli())).statusCode).toBe(204);
  });

  it('refuses to disable a built-in mount', async () => {
    const res = await t.call('DELETE', '/v1/sys/mounts/sys', cli());
    expect(res.statusCode).toBe(400);
  });

  it('reads and writes tune settings', async () => {
    await t.call('POST', '/v1/sys/mounts/my-kv', { ...cli(), body: enableBody });
    expect((await t.call('POST', '/v1/sys/mounts/my-kv/tune', { body: { description: 'tuned', max_lease_ttl: '2h' } })).statusCode).toBe(204);
    const tune = (await t.call('GET', '/v1/sys/mounts/my-kv/tune')).json().data;
    expect(tune).toMatchObject({ description: 'tuned', max_lease_ttl: 7200, options: { version: '2' } });
  });
});

describe('vault kv preflight (sys/internal/ui/mounts/:path)', () => {
  it('returns the mount with its path and a string options.version for any sub-path', async () => {
    for (const p of ['secret', 'secret/', 'secret/a/b']) {
      const res = await t.call('GET', `/v1/sys/internal/ui/mounts/${p}`, cli());
      expect(res.statusCode, p).toBe(200);
      expect(res.json().data).toMatchObject({ path: 'secret/', type: 'kv', options: { version: '2' } });
    }
  });

  it('answers 403 (never 404) for a path no mount serves', async () => {
    const res = await t.call('GET', '/v1/sys/internal/ui/mounts/nope/x', cli());
    expect(res.statusCode).toBe(403);
    expect(res.json().errors[0]).toMatch(/^preflight capability check returned 403/);
  });

  it('answers 403 without a token', async () => {
    const res = await t.call('GET', '/v1/sys/internal/ui/mounts/secret', cli(null));
    expect(res.statusCode).toBe(403);
  });
});
