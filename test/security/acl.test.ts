import { describe, expect, it } from 'vitest';
import { Acl } from '../../src/auth/acl.js';
import { parsePolicy } from '../../src/auth/policy.js';
import { startTestServer } from '../support/app.js';
import { closeAfterTest } from '../support/fixtures.js';
import { CLI_HEADERS, tokenWithPolicy } from './support.js';

const acl = (hcl: string) => new Acl(parsePolicy('p', hcl).rules);
const caps = (a: Acl, path: string) => [...a.capabilities(path)].sort();

describe('ACL matching (Vault rules)', () => {
  it('matches exact paths, trailing * prefix globs and + single segments', () => {
    const a = acl(`
      path "secret/exact" { capabilities = ["read"] }
      path "secret/glob*" { capabilities = ["list"] }
      path "secret/+/config" { capabilities = ["update"] }
    `);
    expect(caps(a, 'secret/exact')).toEqual(['read']);
    expect(caps(a, 'secret/exact/more')).toEqual([]);
    expect(caps(a, 'secret/glob')).toEqual(['list']);
    expect(caps(a, 'secret/globber/x/y')).toEqual(['list']);
    expect(caps(a, 'secret/team-a/config')).toEqual(['update']);
    expect(caps(a, 'secret/team-a/b/config')).toEqual([]);
    expect(caps(a, 'secret//config')).toEqual([]);
    expect(caps(a, 'other')).toEqual([]);
  });

  it('lets the most specific rule win, with the priority order from Vault’s documentation', () => {
    const a = acl(`
      path "secret/*"          { capabilities = ["deny"] }
      path "secret/app/*"      { capabilities = ["read"] }
      path "secret/app/db"     { capabilities = ["update"] }
      path "secret/+/cfg"      { capabilities = ["create"] }
      path "secret/app/c*"     { capabilities = ["patch"] }
      path "+/app/cfg"         { capabilities = ["list"] }
    `);
    // An exact rule beats every pattern.
    expect(caps(a, 'secret/app/db')).toEqual(['update']);
    // The later first wildcard wins: "secret/app/c*" (at 12) over "secret/+/cfg" (at 7) and "+/app/cfg" (at 0).
    expect(caps(a, 'secret/app/cfg')).toEqual(['patch']);
    // Longer prefix wins among globs; a broader deny does not override a more specific allow.
    expect(caps(a, 'secret/app/other')).toEqual(['read']);
    expect(caps(a, 'secret/other')).toEqual(['deny']);
    // Same first-wildcard position: a rule not ending in * beats one that does.
    const b = acl(`
      path "kv/+/x*" { capabilities = ["read"] }
      path "kv/+/xy" { capabilities = ["update"] }
    `);
    expect(caps(b, 'kv/a/xy')).toEqual(['update']);
    expect(caps(b, 'kv/a/xyz')).toEqual(['read']);
    // Fewer + segments win; then the longer path.
    const c = acl(`
      path "kv/+/+/z" { capabilities = ["read"] }
      path "kv/+/y/z" { capabilities = ["update"] }
      path "kv/+/y/*" { capabilities = ["delete"] }
    `);
    expect(caps(c, 'kv/x/y/z')).toEqual(['update']);
    expect(caps(c, 'kv/x/y/q')).toEqual(['delete']);
  });

  it('merges rules for the same path across policies, and deny on that path overrides everything', () => {
    const merged = new Acl([
      ...parsePolicy('a', 'path "kv/data/x" { capabilities = ["read"] }').rules,
      ...parsePolicy('b', 'path "kv/data/x" { capabilities = ["update"] }').rules,
      ...parsePolicy('c', 'path "kv/data/y" { capabilities = ["read", "sudo"] }').rules,
      ...parsePolicy('d', 'path "kv/data/y" { capabilities = ["deny"] }').rules,
    ]);
    expect(caps(merged, 'kv/data/x')).toEqual(['read', 'update']);
    expect(caps(merged, 'kv/data/y')).toEqual(['deny']);
  });

  it('checks list on the path with its trailing slash, falling back to the exact path without it', () => {
    const a = acl(`
      path "kv/metadata/"  { capabilities = ["list"] }
      path "kv/metadata/team" { capabilities = ["list"] }
    `);
    expect(caps(a, 'kv/metadata/')).toEqual(['list']);
    expect(caps(a, 'kv/metadata/team/')).toEqual(['list']);
  });

  it('accepts the legacy policy = "..." shorthand and JSON policies', () => {
    expect(caps(acl('path "a/*" { policy = "read" }'), 'a/b')).toEqual(['list', 'read']);
    expect(caps(acl('path "a/*" { policy = "write" }'), 'a/b')).toEqual(['create', 'delete', 'list', 'patch', 'read', 'update']);
    const json = new Acl(parsePolicy('j', JSON.stringify({ path: { 'a/*': { capabilities: ['read'] }, 'b': { capabilities: ['update'] } } })).rules);
    expect(caps(json, 'a/x')).toEqual(['read']);
    expect(caps(json, 'b')).toEqual(['update']);
  });

  it('finds access anywhere under a mount for the KV preflight, ignoring deny-only rules', () => {
    const a = acl(`
      path "my-kv/data/app/*" { capabilities = ["read"] }
      path "blocked/*" { capabilities = ["deny"] }
    `);
    expect(a.hasAnyUnder('my-kv/')).toBe(true);
    expect(a.hasAnyUnder('my/')).toBe(false);
    expect(a.hasAnyUnder('blocked/')).toBe(false);
    const plus = acl('path "+/config" { capabilities = ["read"] }');
    expect(plus.hasAnyUnder('anything/')).toBe(true);
    expect(plus.hasAnyUnder('team/kv/')).toBe(false);
    expect(acl('path "my-*" { capabilities = ["list"] }').hasAnyUnder('my-kv/')).toBe(true);
    expect(acl('path "my-kv" { capabilities = ["read"] }').hasAnyUnder('my-kv/')).toBe(true);
  });
});

const start = async () => closeAfterTest(await startTestServer());

describe('a read-only policy on my-kv/data/app/*', () => {
  it('reads there, gets 403 on write and outside the path, and still passes the vault kv preflight', async () => {
    const t = await start();
    await t.call('POST', '/v1/sys/mounts/my-kv', { body: { type: 'kv-v2' } });
    expect((await t.call('PUT', '/v1/my-kv/data/app/db', { body: { data: { password: 'p1' } } })).statusCode).toBe(200);
    expect((await t.call('PUT', '/v1/my-kv/data/other', { body: { data: { password: 'p2' } } })).statusCode).toBe(200);
    const reader = await tokenWithPolicy(t, 'app-reader', 'path "my-kv/data/app/*" {\n  capabilities = ["read"]\n}\n');

    const preflight = await t.call('GET', '/v1/sys/internal/ui/mounts/my-kv/app/db', { token: reader, headers: CLI_HEADERS });
    expect(preflight.statusCode).toBe(200);
    expect(preflight.json().data).toMatchObject({ path: 'my-kv/', type: 'kv', options: { version: '2' } });

    const read = await t.call('GET', '/v1/my-kv/data/app/db', { token: reader, headers: CLI_HEADERS });
    expect(read.statusCode).toBe(200);
    expect(read.json().data.data).toEqual({ password: 'p1' });

    const denied = [
      await t.call('PUT', '/v1/my-kv/data/app/db', { token: reader, body: { data: { password: 'x' } } }),
      await t.call('PUT', '/v1/my-kv/data/app/new', { token: reader, body: { data: { password: 'x' } } }),
      await t.call('DELETE', '/v1/my-kv/data/app/db', { token: reader }),
      await t.call('GET', '/v1/my-kv/data/other', { token: reader }),
      await t.call('GET', '/v1/my-kv/metadata/app/db', { token: reader }),
      await t.call('GET', '/v1/my-kv/metadata/app?list=true', { token: reader }),
      await t.call('GET', '/v1/sys/mounts', { token: reader }),
    ];
    for (const res of denied) {
      expect(res.statusCode).toBe(403);
      expect(res.json()).toEqual({ errors: ['permission denied'] });
    }
    // Nothing changed.
    expect((await t.call('GET', '/v1/my-kv/data/app/db')).json().data.data).toEqual({ password: 'p1' });

    // A token with nothing under the mount fails the preflight with Vault's 403 text.
    const stranger = await tokenWithPolicy(t, 'stranger', 'path "secret/*" { capabilities = ["read"] }');
    const nope = await t.call('GET', '/v1/sys/internal/ui/mounts/my-kv', { token: stranger });
    expect(nope.statusCode).toBe(403);
    expect(nope.json()).toEqual({
      errors: ['preflight capability check returned 403, please ensure client\'s policies grant access to path "my-kv/"'],
    });
  });

  it('distinguishes create from update on KV writes', async () => {
    const t = await start();
    await t.call('POST', '/v1/sys/mounts/my-kv', { body: { type: 'kv-v2' } });
    await t.call('PUT', '/v1/my-kv/data/app/existing', { body: { data: { a: '1' } } });
    const creator = await tokenWithPolicy(t, 'creator', 'path "my-kv/data/app/*" { capabilities = ["create"] }');
    expect((await t.call('PUT', '/v1/my-kv/data/app/new', { token: creator, body: { data: { a: '1' } } })).statusCode).toBe(200);
    expect((await t.call('PUT', '/v1/my-kv/data/app/existing', { token: creator, body: { data: { a: '2' } } })).statusCode).toBe(403);
  });
});

describe('policy changes', () => {
  it('take effect on the next request (compiled ACLs are invalidated on write and delete)', async () => {
    const t = await start();
    const token = await tokenWithPolicy(t, 'p', 'path "sys/mounts" { capabilities = ["read"] }');
    expect((await t.call('GET', '/v1/sys/mounts', { token })).statusCode).toBe(200);
    await t.call('PUT', '/v1/sys/policies/acl/p', { body: { policy: 'path "sys/mounts" { capabilities = ["deny"] }' } });
    expect((await t.call('GET', '/v1/sys/mounts', { token })).statusCode).toBe(403);
    await t.call('PUT', '/v1/sys/policies/acl/p', { body: { policy: 'path "sys/mounts" { capabilities = ["read"] }' } });
    expect((await t.call('GET', '/v1/sys/mounts', { token })).statusCode).toBe(200);
    await t.call('DELETE', '/v1/sys/policies/acl/p');
    expect((await t.call('GET', '/v1/sys/mounts', { token })).statusCode).toBe(403);
  });

  it('require sudo on root-protected paths in addition to the operation', async () => {
    const t = await start();
    const plain = await tokenWithPolicy(t, 'plain', 'path "sys/audit" { capabilities = ["read"] }');
    expect((await t.call('GET', '/v1/sys/audit', { token: plain })).statusCode).toBe(403);
    const sudo = await tokenWithPolicy(t, 'sudo', 'path "sys/audit" { capabilities = ["read", "sudo"] }');
    expect((await t.call('GET', '/v1/sys/audit', { token: sudo })).statusCode).toBe(200);
  });
});

describe('vault policy write|read|list (CLI flows)', () => {
  it('uploads a policy with PUT sys/policies/acl/:name (204), reads it back and lists it with root and default', async () => {
    const t = await start();
    const text = '# app readers\npath "my-kv/data/app/*" {\n  capabilities = ["read", "list"]\n}\n';
    const put = await t.call('PUT', '/v1/sys/policies/acl/app-reader', { headers: CLI_HEADERS, body: { policy: text } });
    expect(put.statusCode).toBe(204);
    expect(put.body).toBe('');

    const read = await t.call('GET', '/v1/sys/policies/acl/app-reader', { headers: CLI_HEADERS });
    expect(read.statusCode).toBe(200);
    const body = read.json();
    expect(body).toEqual({
      request_id: body.request_id,
      lease_id: '',
      renewable: false,
      lease_duration: 0,
      data: { name: 'app-reader', policy: text },
      wrap_info: null,
      warnings: null,
      auth: null,
      mount_type: 'system',
    });

    const list = await t.call('GET', '/v1/sys/policies/acl?list=true', { headers: CLI_HEADERS });
    expect(list.json().data).toEqual({ keys: ['app-reader', 'default', 'root'] });
    // Names are lower-cased, as Vault does.
    await t.call('PUT', '/v1/sys/policies/acl/MixedCase', { body: { policy: text } });
    expect((await t.call('GET', '/v1/sys/policies/acl/mixedcase')).statusCode).toBe(200);
  });

  it('accepts a base64-encoded policy body and JSON policies', async () => {
    const t = await start();
    const text = 'path "a/*" { capabilities = ["read"] }';
    expect((await t.call('PUT', '/v1/sys/policies/acl/b64', { body: { policy: Buffer.from(text).toString('base64') } })).statusCode).toBe(204);
    expect((await t.call('GET', '/v1/sys/policies/acl/b64')).json().data.policy).toBe(text);
    const json = JSON.stringify({ path: { 'a/*': { capabilities: ['read'] } } });
    expect((await t.call('PUT', '/v1/sys/policies/acl/json', { body: { policy: json } })).statusCode).toBe(204);
  });

  it('serves the legacy sys/policy endpoints as an injector path with rules', async () => {
    const t = await start();
    const text = 'path "a/*" { capabilities = ["read"] }';
    expect((await t.call('PUT', '/v1/sys/policy/legacy', { body: { rules: text } })).statusCode).toBe(204);
    const read = (await t.call('GET', '/v1/sys/policy/legacy')).json();
    expect(read).toMatchObject({ name: 'legacy', rules: text, data: { name: 'legacy', rules: text } });
    const list = (await t.call('GET', '/v1/sys/policy')).json();
    expect(list).toMatchObject({ keys: ['default', 'legacy', 'root'], policies: ['default', 'legacy', 'root'] });
    expect((await t.call('DELETE', '/v1/sys/policy/legacy')).statusCode).toBe(204);
    expect((await t.call('GET', '/v1/sys/policy/legacy')).statusCode).toBe(404);
  });
});

describe('policy validation', () => {
  it('rejects an HCL syntax error with 400 and a message naming the line', async () => {
    const t = await start();
    const res = await t.call('PUT', '/v1/sys/policies/acl/broken', {
      headers: CLI_HEADERS,
      body: { policy: 'path "a/*" {\n  capabilities = ["read"]\n}\npath "b/*" {\n  capabilities = ["read"\n}\n' },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ errors: ['failed to parse policy: line 6, column 1: expected "," or "]" in list "capabilities", found "}"'] });
    expect((await t.call('GET', '/v1/sys/policies/acl/broken')).statusCode).toBe(404);
  });

  it('rejects unknown capabilities, unknown keys, unsupported constraints and an empty policy', async () => {
    const t = await start();
    const cases: Array<[string, string]> = [
      ['path "a" { capabilities = ["reed"] }', 'failed to parse policy: path "a": invalid capability "reed"'],
      ['path "a" { capabilitiez = ["read"] }', 'failed to parse policy: path "a": invalid key "capabilitiez"'],
      ['rule "a" { capabilities = ["read"] }', 'failed to parse policy: invalid key "rule"'],
      [
        'path "a" {\n  capabilities = ["update"]\n  allowed_parameters = { "x" = [] }\n}',
        'failed to parse policy: path "a": "allowed_parameters" is not supported by Ferry; remove it or express the rule with capabilities',
      ],
      ['', "'policy' parameter not supplied or empty"],
      ['{"path": ', 'failed to parse policy: invalid JSON: Unexpected end of JSON input'],
    ];
    for (const [policy, message] of cases) {
      const res = await t.call('PUT', '/v1/sys/policies/acl/bad', { body: { policy } });
      expect(res.statusCode, policy).toBe(400);
      expect(res.json()).toEqual({ errors: [message] });
    }
  });

  it('protects the root and default policies', async () => {
    const t = await start();
    const text = 'path "a" { capabilities = ["read"] }';
    expect((await t.call('PUT', '/v1/sys/policies/acl/root', { body: { policy: text } })).json()).toEqual({ errors: ['cannot update "root" policy'] });
    expect((await t.call('GET', '/v1/sys/policies/acl/root')).statusCode).toBe(404);
    expect((await t.call('DELETE', '/v1/sys/policies/acl/root')).json()).toEqual({ errors: ['cannot delete "root" policy'] });
    expect((await t.call('DELETE', '/v1/sys/policies/acl/default')).json()).toEqual({ errors: ['cannot delete "default" policy'] });
    // default can be edited.
    expect((await t.call('PUT', '/v1/sys/policies/acl/default', { body: { policy: text } })).statusCode).toBe(204);
  });

  it('gives every token the default policy: lookup-self, renew-self, revoke-self and capabilities-self', async () => {
    const t = await start();
    const token = (await t.call('POST', '/v1/auth/token/create', { body: { policies: ['nothing-else'] } })).json().auth.client_token;
    expect((await t.call('GET', '/v1/auth/token/lookup-self', { token })).statusCode).toBe(200);
    expect((await t.call('POST', '/v1/auth/token/renew-self', { token })).statusCode).toBe(200);
    expect((await t.call('POST', '/v1/sys/capabilities-self', { token, body: { paths: ['x'] } })).statusCode).toBe(200);
    expect((await t.call('POST', '/v1/auth/token/create', { token })).statusCode).toBe(403);
    expect((await t.call('POST', '/v1/auth/token/revoke-self', { token })).statusCode).toBe(204);
  });
});

describe('sys/capabilities-self', () => {
  it('answers the calling token’s capabilities per path (injector), root as ["root"], nothing as ["deny"]', async () => {
    const t = await start();
    const token = await tokenWithPolicy(t, 'p', 'path "my-kv/data/app/*" { capabilities = ["read", "list"] }\npath "my-kv/data/app/secret" { capabilities = ["deny"] }');
    const res = await t.call('POST', '/v1/sys/capabilities-self', { token, body: { paths: ['my-kv/data/app/x', 'my-kv/data/app/secret', 'other'] } });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    const expected = { 'my-kv/data/app/x': ['list', 'read'], 'my-kv/data/app/secret': ['deny'], other: ['deny'] };
    expect(body.data).toEqual(expected);
    expect(body).toMatchObject(expected);
    const single = (await t.call('POST', '/v1/sys/capabilities-self', { token, body: { path: 'my-kv/data/app/x' } })).json();
    expect(single.data).toEqual({ 'my-kv/data/app/x': ['list', 'read'], capabilities: ['list', 'read'] });
    const root = (await t.call('POST', '/v1/sys/capabilities-self', { body: { paths: ['anything'] } })).json();
    expect(root.data).toEqual({ anything: ['root'], capabilities: ['root'] });
    const accessor = (await t.call('POST', '/v1/auth/token/lookup', { body: { token } })).json().data.accessor;
    expect((await t.call('POST', '/v1/sys/capabilities-accessor', { body: { accessor, paths: ['other'] } })).json().data).toEqual({
      other: ['deny'],
      capabilities: ['deny'],
    });
    expect((await t.call('POST', '/v1/sys/capabilities', { body: { token, paths: 'my-kv/data/app/x' } })).json().data.capabilities).toEqual(['list', 'read']);
  });
});

describe('policy names are normalised before the ACL check', () => {
  const ADMIN_DENIED = `
    path "sys/policies/acl/*" { capabilities = ["create", "read", "update", "delete", "list"] }
    path "sys/policy/*" { capabilities = ["create", "read", "update", "delete", "list"] }
    path "sys/policies/acl/admin" { capabilities = ["deny"] }
    path "sys/policy/admin" { capabilities = ["deny"] }
    path "sys/policies/acl/default" { capabilities = ["deny"] }
  `;
  const policy = 'path "*" { capabilities = ["sudo", "create", "read", "update", "delete", "list"] }';

  it('PUT sys/policies/acl/ADMIN (and padded forms) by a token denied sys/policies/acl/admin → 403, and nothing is written', async () => {
    const t = await start();
    await t.call('PUT', '/v1/sys/policies/acl/admin', { body: { policy: 'path "secret/*" { capabilities = ["read"] }' } });
    const token = await tokenWithPolicy(t, 'policy-editor', ADMIN_DENIED);
    const forms = ['ADMIN', 'Admin', 'admin%20', '%20admin', 'ADMIN%09', '%0Aadmin%0D', 'aDmIn%20%20'];
    for (const form of forms) {
      for (const [method, base] of [
        ['PUT', 'sys/policies/acl'],
        ['PUT', 'sys/policy'],
        ['DELETE', 'sys/policies/acl'],
        ['DELETE', 'sys/policy'],
        ['GET', 'sys/policies/acl'],
      ] as const) {
        const res = await t.call(method, `/v1/${base}/${form}`, { token, body: method === 'PUT' ? { policy } : undefined });
        expect(res.statusCode, `${method} ${base}/${form}`).toBe(403);
        expect(res.json(), `${method} ${base}/${form}`).toEqual({ errors: ['permission denied'] });
      }
    }
    // `default` is denied too: `Default` is the same policy.
    expect((await t.call('PUT', '/v1/sys/policies/acl/Default', { token, body: { policy } })).statusCode).toBe(403);
    expect((await t.call('GET', '/v1/sys/policies/acl/admin')).json().data.policy).toBe('path "secret/*" { capabilities = ["read"] }');
    // The same token still edits the policies it is allowed to, under any spelling, as one name.
    expect((await t.call('PUT', '/v1/sys/policies/acl/Team-A%20', { token, body: { policy } })).statusCode).toBe(204);
    expect((await t.call('GET', '/v1/sys/policies/acl/team-a', { token })).json().data.name).toBe('team-a');
  });

  it('audits the request under the normalised path', async () => {
    const t = await start();
    const dir = (await import('../support/fixtures.js')).tempDirForTest();
    const file = `${dir}/audit.log`;
    await t.call('PUT', '/v1/sys/audit/file', { body: { type: 'file', options: { file_path: file } } });
    await t.call('PUT', '/v1/sys/policies/acl/%20MiXeD', { body: { policy } });
    const { readFileSync } = await import('node:fs');
    const paths = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l).request.path);
    expect(paths).toContain('sys/policies/acl/mixed');
    expect(paths.some((p: string) => /MiXeD| mixed/.test(p))).toBe(false);
  });

  it('a name that trims to nothing is refused with a 400 naming the rule', async () => {
    const t = await start();
    const res = await t.call('PUT', '/v1/sys/policies/acl/%20%20', { body: { policy } });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ errors: ['policy name must be provided'] });
  });
});
