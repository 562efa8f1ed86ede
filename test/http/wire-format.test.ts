import { beforeEach, describe, expect, it } from 'vitest';
import { startTestServer } from '../support/app.js';
import { closeAfterTest, useTestServer } from '../support/fixtures.js';

const t = useTestServer();

describe('response envelope', () => {
  it('carries every envelope field in Vault key order with exact JSON content type and no-store', async () => {
    const res = await t.call('GET', '/v1/auth/token/lookup-self');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/json');
    expect(res.headers['cache-control']).toBe('no-store');
    const body = res.json();
    expect(Object.keys(body)).toEqual([
      'request_id', 'lease_id', 'renewable', 'lease_duration', 'data', 'wrap_info', 'warnings', 'auth', 'mount_type',
    ]);
    expect(body.request_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(body).toMatchObject({ lease_id: '', renewable: false, lease_duration: 0, wrap_info: null, warnings: null, auth: null, mount_type: 'token' });
  });

  it('sets the JSON content type on 204 responses too', async () => {
    const res = await t.call('POST', '/v1/sys/mounts/a', { body: { type: 'kv' } });
    expect(res.statusCode).toBe(204);
    expect(res.headers['content-type']).toBe('application/json');
    expect(res.body).toBe('');
  });

  it('copies data keys to the top level on sys injector paths (sys/mounts)', async () => {
    const body = (await t.call('GET', '/v1/sys/mounts')).json();
    expect(body['secret/']).toEqual(body.data['secret/']);
    expect(body['sys/'].type).toBe('system');
  });
});

describe('tokens on the wire', () => {
  it('accepts Authorization: Bearer when X-Vault-Token is absent', async () => {
    const res = await t.call('GET', '/v1/auth/token/lookup-self', { token: null, headers: { authorization: 'Bearer root' } });
    expect(res.statusCode).toBe(200);
    expect(res.json().data.id).toBe('root');
  });

  it('gives X-Vault-Token precedence over Authorization', async () => {
    const res = await t.call('GET', '/v1/auth/token/lookup-self', { token: 'root', headers: { authorization: 'Bearer wrong' } });
    expect(res.statusCode).toBe(200);
  });

  it('answers 403 permission denied for a missing token', async () => {
    const res = await t.call('GET', '/v1/sys/mounts', { token: null });
    expect(res.statusCode).toBe(403);
    expect(res.json()).toEqual({ errors: ['permission denied'] });
  });

  it('answers 403 permission denied for a wrong token', async () => {
    const res = await t.call('GET', '/v1/sys/mounts', { token: 'hvs.nope' });
    expect(res.statusCode).toBe(403);
    expect(res.json()).toEqual({ errors: ['permission denied'] });
  });

  it('ignores a non-Bearer Authorization header', async () => {
    const res = await t.call('GET', '/v1/sys/mounts', { token: null, headers: { authorization: 'Basic cm9vdA==' } });
    expect(res.statusCode).toBe(403);
  });
});

describe('list forms', () => {
  beforeEach(async () => {
    await t.call('POST', '/v1/sys/mounts/kv1', { body: { type: 'kv' } });
  });

  it('rejects an unparseable list value with 400 and an empty errors list', async () => {
    const res = await t.call('GET', '/v1/sys/mounts?list=maybe');
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ errors: [] });
  });

  it('treats ?list=false as a plain read', async () => {
    const res = await t.call('GET', '/v1/sys/mounts?list=false');
    expect(res.statusCode).toBe(200);
  });

  it('turns GET ?list=true and ?list=1 into the list operation', async () => {
    for (const q of ['true', '1', 't', 'TRUE']) {
      const res = await t.call('GET', `/v1/sys/mounts?list=${q}`);
      expect(res.statusCode).toBe(405);
      expect(res.json()).toEqual({ errors: ['unsupported operation'] });
    }
  });
});

describe('namespaces', () => {
  it('serves the root namespace and echoes the header back', async () => {
    const res = await t.call('GET', '/v1/sys/mounts', { headers: { 'x-vault-namespace': 'root' } });
    expect(res.statusCode).toBe(200);
    expect(res.headers['x-vault-namespace']).toBe('root');
  });

  it('answers 400 with a clear message for any other namespace', async () => {
    const res = await t.call('GET', '/v1/sys/mounts', { headers: { 'x-vault-namespace': 'ns1/' } });
    expect(res.statusCode).toBe(400);
    expect(res.json().errors[0]).toMatch(/namespace "ns1\/" does not exist/);
  });
});

describe('bad input', () => {
  it('answers 400 error parsing JSON for a malformed body, whatever the content type', async () => {
    for (const ct of [undefined, 'application/json', 'text/plain']) {
      const res = await t.call('POST', '/v1/sys/mounts/x', { rawBody: '{"type": ', headers: ct ? { 'content-type': ct } : {} });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toEqual({ errors: ['error parsing JSON'] });
    }
    expect((await t.call('GET', '/v1/sys/mounts/x')).statusCode).toBe(400);
  });

  it('answers 400 for a JSON body that is not an object', async () => {
    const res = await t.call('POST', '/v1/sys/mounts/x', { rawBody: '[1,2]' });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ errors: ['error parsing JSON'] });
  });

  it('answers a field validation error naming the field for a wrong type', async () => {
    const res = await t.call('POST', '/v1/sys/mounts/x', { body: { type: 'kv', local: 'sometimes' } });
    expect(res.statusCode).toBe(400);
    expect(res.json().errors[0]).toBe(
      'Field validation failed: error converting input for field "local": strconv.ParseBool: invalid syntax',
    );
    expect((await t.call('GET', '/v1/sys/mounts/x')).statusCode).toBe(400);
  });

  it('coerces the string-typed values the CLI sends', async () => {
    const res = await t.call('POST', '/v1/sys/mounts/x', { body: { type: 'kv', local: 'true', seal_wrap: '0' } });
    expect(res.statusCode).toBe(204);
    const read = (await t.call('GET', '/v1/sys/mounts/x')).json();
    expect(read.data).toMatchObject({ local: true, seal_wrap: false });
  });

  it('ignores unknown fields and reports them in warnings when the endpoint returns a body', async () => {
    const res = await t.call('POST', '/v1/auth/token/lookup', { body: { token: 'root', zeta: 1, alpha: 2 } });
    expect(res.statusCode).toBe(200);
    expect(res.json().warnings).toEqual(['Endpoint ignored these unrecognized parameters: [alpha zeta]']);
  });

  it('answers 200 with the warning, not 204, when an endpoint without a body ignored unknown fields (as Vault)', async () => {
    const policy = 'path "x/*" { capabilities = ["read"] }';
    const plain = await t.call('PUT', '/v1/sys/policies/acl/p', { body: { policy } });
    expect(plain.statusCode).toBe(204);
    expect(plain.body).toBe('');
    const res = await t.call('PUT', '/v1/sys/policies/acl/p', { body: { policy, zeta: 1, alpha: 2 } });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      data: null,
      auth: null,
      mount_type: 'system',
      warnings: ['Endpoint ignored these unrecognized parameters: [alpha zeta]'],
    });
    expect(res.headers['content-type']).toBe('application/json');
    // The write itself happened.
    expect((await t.call('GET', '/v1/sys/policies/acl/p')).json().data.policy).toBe(policy);
  });

  it('answers 413 for a body over the size limit and stores nothing', async () => {
    const small = closeAfterTest(await startTestServer({ maxRequestSize: 1024 }));
    const res = await small.call('POST', '/v1/sys/mounts/big', { body: { type: 'kv', description: 'x'.repeat(2048) } });
    expect(res.statusCode).toBe(413);
    expect(res.headers['content-type']).toBe('application/json');
    expect(res.json().errors).toHaveLength(1);
    expect((await small.call('GET', '/v1/sys/mounts/big')).statusCode).toBe(400);
  });

  it('answers 404 with Vault text for a path no mount serves', async () => {
    const res = await t.call('GET', '/v1/nothing-here/x');
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ errors: ['no handler for route "nothing-here/x". route entry not found.'] });
  });

  it('answers 404 unsupported path for an unknown sys path', async () => {
    const res = await t.call('GET', '/v1/sys/nope');
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ errors: ['unsupported path'] });
  });

  it('answers a path the router cannot percent-decode with Vault\'s error body, not the framework\'s', async () => {
    for (const path of ['/v1/sys/mounts/%ZZ', '/v1/secret/data/%C0%AF', '/v1/sys/policy/%u0041', '/v1/secret/data/a%']) {
      const res = await t.call('GET', path);
      expect(res.statusCode, path).toBe(400);
      expect(res.headers['content-type']).toBe('application/json');
      expect(res.json(), path).toEqual({ errors: ['invalid percent-encoding in path'] });
    }
    // A very long segment is no error of its own: the target is bounded by Node's header limit.
    expect((await t.call('GET', `/v1/secret/data/${'a'.repeat(12_000)}`)).statusCode).toBe(404);
  });

  it('answers 404 outside /v1', async () => {
    const res = await t.call('GET', '/v2/sys/health');
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ errors: [] });
  });

  it('answers 405 for an unknown HTTP verb', async () => {
    const res = await t.app.inject({ method: 'OPTIONS', url: '/v1/sys/health' });
    expect(res.statusCode).toBe(405);
    expect(res.headers['content-type']).toBe('application/json');
  });

  it('answers 415 for PATCH without the merge-patch content type', async () => {
    const res = await t.call('PATCH', '/v1/sys/mounts/x', { body: {}, headers: { 'content-type': 'application/json' } });
    expect(res.statusCode).toBe(415);
    expect(res.json()).toEqual({ errors: ['PATCH requires Content-Type of application/merge-patch+json, provided application/json'] });
  });

  it('survives a burst of hostile inputs without a 500', async () => {
    const inputs: Array<[string, string, string | undefined]> = [
      ['POST', '/v1/sys/mounts/%zz', '{}'],
      ['POST', '/v1/sys/mounts/a', '{"type": {"x": 1}}'],
      ['POST', '/v1/sys/mounts/a', '{"type": "kv", "config": "nope"}'],
      ['POST', '/v1/sys/mounts/a', '{"type": "kv", "options": {"version": "9"}}'],
      ['POST', '/v1/sys/mounts/a/..', '{"type": "kv"}'],
      ['GET', '/v1/sys/health?sealedcode=abc', undefined],
      ['DELETE', '/v1/sys/mounts/sys', undefined],
      ['POST', '/v1/sys/mounts/a/tune', '{"max_lease_ttl": "forever"}'],
      ['GET', '/v1/', undefined],
      ['GET', '/v1//sys//mounts', undefined],
    ];
    for (const [method, url, rawBody] of inputs) {
      const res = await t.call(method, url, { rawBody });
      expect(res.statusCode, `${method} ${url}`).toBeLessThan(500);
      expect(res.headers['content-type']).toBe('application/json');
    }
  });
});
