import { describe, expect, it } from 'vitest';
import { useTestServer } from '../support/fixtures.js';

const t = useTestServer();

describe('sys/mounts', () => {
  it('enables kv-v2 as type kv with options.version "2" and answers 204', async () => {
    const res = await t.call('POST', '/v1/sys/mounts/my-kv', {
      body: { type: 'kv-v2', description: '', config: { options: null, default_lease_ttl: '0s', max_lease_ttl: '0s', force_no_cache: false }, local: false, seal_wrap: false, external_entropy_access: false, options: null },
    });
    expect(res.statusCode).toBe(204);
    expect(res.headers['content-type']).toBe('application/json');
    const read = await t.call('GET', '/v1/sys/mounts/my-kv');
    expect(read.statusCode).toBe(200);
    expect(read.json().data).toMatchObject({ type: 'kv', options: { version: '2' }, config: { default_lease_ttl: 0, max_lease_ttl: 0 } });
    expect(read.json().data.accessor).toMatch(/^kv_[0-9a-f]{8}$/);
  });

  it('answers a path no secrets engine serves with Vault’s 400 "No secret engine mount at <path>/"', async () => {
    for (const [path, shown] of [
      ['nothing-here', 'nothing-here/'],
      ['nothing-here/', 'nothing-here/'],
      ['deep/er/path', 'deep/er/path/'],
      ['auth/nothing-here', 'auth/nothing-here/'],
    ]) {
      const res = await t.call('GET', `/v1/sys/mounts/${path}`);
      expect(res.statusCode, path).toBe(400);
      expect(res.json(), path).toEqual({ errors: [`No secret engine mount at ${shown}`] });
    }
  });

  it('reads an auth method at sys/mounts/auth/<path>, where the Go client’s GetAuth reads it', async () => {
    const res = await t.call('GET', '/v1/sys/mounts/auth/token');
    expect(res.statusCode).toBe(200);
    expect(res.json().data).toMatchObject({ type: 'token', description: 'token based credentials', config: { token_type: 'default-service' } });
  });

  it('reads the mount serving a deeper path by longest prefix, as Vault does', async () => {
    await t.call('POST', '/v1/sys/mounts/team/kv', { body: { type: 'kv-v2' } });
    const mount = (await t.call('GET', '/v1/sys/mounts/team/kv')).json().data;
    const deeper = await t.call('GET', '/v1/sys/mounts/team/kv/some/secret');
    expect(deeper.statusCode).toBe(200);
    expect(deeper.json().data).toEqual(mount);
    expect((await t.call('GET', '/v1/sys/mounts/team')).statusCode).toBe(400);
  });
});
