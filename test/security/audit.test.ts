import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/app.js';
import { closeAfterTest, tempDirForTest } from '../support/fixtures.js';
import { CLI_HEADERS, leaks, tokenWithPolicy } from './support.js';

const ROOT = 'root-token-under-audit-7d1c';
async function start(): Promise<{ t: TestServer; file: string; dir: string }> {
  const t = closeAfterTest(await startTestServer({ devRootTokenId: ROOT }));
  const dir = tempDirForTest('ferry-audit-');
  const file = path.join(dir, 'audit.log');
  // `vault audit enable file file_path=...`
  const res = await t.call('PUT', '/v1/sys/audit/file', {
    headers: CLI_HEADERS,
    body: { type: 'file', description: '', options: { file_path: file }, local: false },
  });
  expect(res.statusCode, res.body).toBe(204);
  return { t, file, dir };
}
const lines = (file: string): any[] =>
  fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l));

describe('audit file device', () => {
  it('writes a request line and a response line for every request, denied ones included', async () => {
    const { t, file } = await start();
    fs.writeFileSync(file, '');
    const calls = [
      await t.call('PUT', '/v1/secret/data/app', { body: { data: { password: 'x' } } }),
      await t.call('GET', '/v1/secret/data/app'),
      await t.call('GET', '/v1/sys/mounts', { token: 'hvs.not-a-token' }),
      await t.call('POST', '/v1/sys/mounts/bad', { body: { type: 'nosuch' } }),
      await t.call('POST', '/v1/auth/token/create', { body: { ttl: 'not a duration' } }),
    ];
    expect(calls.map((c) => c.statusCode)).toEqual([200, 200, 403, 400, 400]);
    const entries = lines(file);
    expect(entries.map((e) => [e.type, e.request.path, e.error ?? ''])).toEqual([
      ['request', 'secret/data/app', ''],
      ['response', 'secret/data/app', ''],
      ['request', 'secret/data/app', ''],
      ['response', 'secret/data/app', ''],
      ['request', 'sys/mounts', 'permission denied'],
      ['response', 'sys/mounts', 'permission denied'],
      ['request', 'sys/mounts/bad', ''],
      ['response', 'sys/mounts/bad', 'plugin not found in the catalog: nosuch'],
      ['request', 'auth/token/create', ''],
      ['response', 'auth/token/create', 'Field validation failed: error converting input for field "ttl": time: invalid duration'],
    ]);
    // Request and response entries of one request share the request id.
    for (let i = 0; i < entries.length; i += 2) expect(entries[i].request.id).toBe(entries[i + 1].request.id);
  });

  it("has Vault's entry shape with every string of request and response data and every token HMAC'd", async () => {
    const { t, file } = await start();
    fs.writeFileSync(file, '');
    await t.call('PUT', '/v1/secret/data/app', { body: { data: { password: 'pw' } } });
    const [req, res] = lines(file);
    const hmac = expect.stringMatching(/^hmac-sha256:[0-9a-f]{64}$/);
    expect(req).toEqual({
      time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      type: 'request',
      auth: {
        client_token: hmac,
        accessor: hmac,
        display_name: 'root',
        policies: ['root'],
        token_policies: ['root'],
        entity_id: '',
        token_type: 'service',
        token_ttl: 0,
        token_issue_time: expect.any(String),
      },
      request: {
        id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        operation: 'create',
        mount_point: 'secret/',
        mount_type: 'kv',
        mount_accessor: expect.stringMatching(/^kv_[0-9a-f]{8}$/),
        client_token: hmac,
        client_token_accessor: hmac,
        namespace: { id: 'root' },
        path: 'secret/data/app',
        data: { data: { password: hmac } },
        remote_address: expect.any(String),
      },
    });
    expect(res.type).toBe('response');
    expect(res.auth).toEqual(req.auth);
    expect(res.request).toEqual(req.request);
    expect(res.response).toMatchObject({ mount_point: 'secret/', mount_type: 'kv', data: { version: 1, created_time: hmac } });
  });

  it('holds no plaintext secret, token or accessor, and its digests equal what sys/audit-hash returns', async () => {
    const { t, file } = await start();
    const marker = 'AUDIT-MARKER-5e2b77c0';
    await t.call('PUT', '/v1/secret/data/app', { body: { data: { password: marker } } });
    await t.call('GET', '/v1/secret/data/app');
    const created = (await t.call('POST', '/v1/auth/token/create', { body: { policies: ['default'], meta: { note: 'm' } } })).json().auth;
    await t.call('GET', '/v1/auth/token/lookup-self', { token: created.client_token });
    await t.call('POST', '/v1/auth/token/lookup', { body: { token: created.client_token } });
    await t.call('PUT', '/v1/sys/policies/acl/p', { body: { policy: `# ${marker}\npath "a" { capabilities = ["read"] }` } });

    const raw = fs.readFileSync(file);
    for (const secret of [marker, ROOT, created.client_token, created.accessor]) expect(leaks(raw, secret), secret).toEqual([]);

    // `vault audit hash -path=file <value>` → POST sys/audit-hash/file {"input": ...}
    const hash = await t.call('POST', '/v1/sys/audit-hash/file', { headers: CLI_HEADERS, body: { input: marker } });
    expect(hash.statusCode).toBe(200);
    const digest = hash.json().data.hash;
    expect(digest).toMatch(/^hmac-sha256:[0-9a-f]{64}$/);
    expect(hash.json().hash).toBe(digest);
    const write = lines(file).find((e) => e.type === 'request' && e.request.path === 'secret/data/app' && e.request.operation === 'create');
    expect(write.request.data.data.password).toBe(digest);
    const read = lines(file).find((e) => e.type === 'response' && e.request.operation === 'read' && e.request.path === 'secret/data/app');
    expect(read.response.data.data.password).toBe(digest);
    // The token a request carries hashes the same way.
    const tokenDigest = (await t.call('POST', '/v1/sys/audit-hash/file', { body: { input: created.client_token } })).json().data.hash;
    const lookup = lines(file).find((e) => e.type === 'request' && e.request.path === 'auth/token/lookup-self');
    expect(lookup.request.client_token).toBe(tokenDigest);
    expect(lookup.auth.client_token).toBe(tokenDigest);
    const issued = lines(file).find((e) => e.type === 'response' && e.request.path === 'auth/token/create');
    expect(issued.response.auth.client_token).toBe(tokenDigest);

    const unknown = await t.call('POST', '/v1/sys/audit-hash/nope', { body: { input: 'x' } });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json()).toEqual({ errors: ['unknown audit backend'] });
  });

  it('fails the request with a generic 500, before the handler runs, when every device fails to write', async () => {
    const { t, file } = await start();
    fs.rmSync(file);
    fs.mkdirSync(file); // appending to a directory fails
    const res = await t.call('PUT', '/v1/sys/policies/acl/unaudited', { body: { policy: 'path "a" { capabilities = ["read"] }' } });
    expect(res.statusCode).toBe(500);
    expect(res.json()).toEqual({ errors: ['internal error'] });
    const read = await t.call('GET', '/v1/secret/data/anything');
    expect(read.statusCode).toBe(500);
    fs.rmdirSync(file);
    // The write never happened.
    expect((await t.call('GET', '/v1/sys/policies/acl/unaudited')).statusCode).toBe(404);
    expect(lines(file).map((e) => e.type)).toEqual(['request', 'response']);
  });

  it('keeps serving while at least one device writes', async () => {
    const { t, file, dir } = await start();
    const second = path.join(dir, 'second.log');
    expect((await t.call('PUT', '/v1/sys/audit/second', { body: { type: 'file', options: { file_path: second } } })).statusCode).toBe(204);
    fs.rmSync(file);
    fs.mkdirSync(file);
    const res = await t.call('PUT', '/v1/sys/policies/acl/audited', { body: { policy: 'path "a" { capabilities = ["read"] }' } });
    expect(res.statusCode).toBe(204);
    expect(lines(second).filter((e) => e.request.path === 'sys/policies/acl/audited').map((e) => e.type)).toEqual(['request', 'response']);
  });
});

describe('sys/audit', () => {
  it('lists, enables and disables devices (root-protected, injector responses)', async () => {
    const { t, file, dir } = await start();
    const list = await t.call('GET', '/v1/sys/audit', { headers: CLI_HEADERS });
    expect(list.statusCode).toBe(200);
    const device = { type: 'file', description: '', options: { file_path: file }, local: false, path: 'file/' };
    expect(list.json().data).toEqual({ 'file/': device });
    expect(list.json()['file/']).toEqual(device);

    const again = await t.call('PUT', '/v1/sys/audit/file', { body: { type: 'file', options: { file_path: file } } });
    expect(again.json()).toEqual({ errors: ['path already in use'] });
    const cases: Array<[Record<string, unknown>, string]> = [
      [{}, 'type is required'],
      [{ type: 'syslog' }, 'unknown backend type: "syslog"'],
      [{ type: 'file' }, 'file_path is required'],
      [{ type: 'file', options: { file_path: path.join(dir, 'x.log'), log_raw: 'true' } }, 'log_raw is not supported: Ferry always hashes secrets in the audit log'],
      [{ type: 'file', options: { file_path: path.join(dir, 'missing-dir', 'x.log') } }, 'sys/audit: error enabling audit device: ENOENT'],
    ];
    for (const [body, message] of cases) {
      const res = await t.call('PUT', '/v1/sys/audit/other', { body });
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(res.json()).toEqual({ errors: [message] });
    }

    const limited = await tokenWithPolicy(t, 'auditor', 'path "sys/audit*" { capabilities = ["read", "update", "delete"] }');
    expect((await t.call('GET', '/v1/sys/audit', { token: limited })).statusCode).toBe(403);
    expect((await t.call('DELETE', '/v1/sys/audit/file', { token: limited })).statusCode).toBe(403);

    expect((await t.call('DELETE', '/v1/sys/audit/file', { headers: CLI_HEADERS })).statusCode).toBe(204);
    expect((await t.call('GET', '/v1/sys/audit')).json().data).toEqual({});
    const size = fs.statSync(file).size;
    await t.call('GET', '/v1/sys/mounts');
    expect(fs.statSync(file).size).toBe(size);
    expect((await t.call('DELETE', '/v1/sys/audit/file')).statusCode).toBe(204);
  });

  it('reloads the device table on unseal and stops auditing while sealed', async () => {
    const { t, file } = await start();
    await t.call('PUT', '/v1/sys/seal');
    fs.writeFileSync(file, '');
    await t.call('GET', '/v1/sys/seal-status', { token: null });
    await t.call('PUT', '/v1/sys/unseal', { token: null, body: { key: t.server.devUnsealKey } });
    expect(lines(file)).toEqual([]);
    await t.call('GET', '/v1/sys/mounts');
    expect(lines(file).map((e) => [e.type, e.request.path])).toEqual([
      ['request', 'sys/mounts'],
      ['response', 'sys/mounts'],
    ]);
  });
});

describe('field-validation errors', () => {
  it('name the field but never quote its input: a secret given to a wrongly typed field reaches neither the client nor the audit log', async () => {
    const { t, file } = await start();
    const SECRET = 'Pasted-Into-The-Wrong-Field/9f31c';
    const cases: Array<[string, string, Record<string, unknown>, string]> = [
      ['POST', '/v1/auth/token/create', { ttl: SECRET }, 'ttl'],
      ['POST', '/v1/auth/token/create', { num_uses: SECRET }, 'num_uses'],
      ['POST', '/v1/auth/token/create', { renewable: SECRET }, 'renewable'],
      ['POST', '/v1/auth/token/create', { meta: SECRET }, 'meta'],
      ['POST', '/v1/sys/mounts/x', { type: 'kv', local: SECRET }, 'local'],
      ['PUT', '/v1/secret/data/app', { data: SECRET }, 'data'],
      ['POST', '/v1/secret/destroy/app', { versions: [SECRET] }, 'versions'],
      ['POST', '/v1/secret/config', { delete_version_after: SECRET }, 'delete_version_after'],
    ];
    for (const [method, url, body, field] of cases) {
      const res = await t.call(method, url, { body });
      expect(res.statusCode, `${url} ${field}`).toBe(400);
      expect(res.json().errors[0], `${url} ${field}`).toMatch(new RegExp(`^Field validation failed: error converting input for field "${field}": `));
      expect(res.body).not.toContain(SECRET);
    }
    // The request entries carry the input only as HMACs; the response entries carry the error text.
    expect(leaks(fs.readFileSync(file), SECRET)).toEqual([]);
    expect(lines(file).filter((e) => e.type === 'response' && e.error)).toHaveLength(cases.length);
  });
});

describe('audit file mode', () => {
  const modeOf = (file: string) => (fs.statSync(file).mode & 0o777).toString(8);

  it('creates the file with the device\'s mode (default 0600) and puts it back when it changes; "0000" leaves it alone', async () => {
    const t = closeAfterTest(await startTestServer());
    const dir = tempDirForTest('ferry-audit-mode-');
    const enable = (name: string, options: Record<string, string>) =>
      t.call('PUT', `/v1/sys/audit/${name}`, { body: { type: 'file', options: { file_path: path.join(dir, `${name}.log`), ...options } } });
    expect((await enable('plain', {})).statusCode).toBe(204);
    expect((await enable('shared', { mode: '0640' })).statusCode).toBe(204);
    fs.writeFileSync(path.join(dir, 'kept.log'), '');
    fs.chmodSync(path.join(dir, 'kept.log'), 0o644);
    expect((await enable('kept', { mode: '0000' })).statusCode).toBe(204);
    expect([modeOf(path.join(dir, 'plain.log')), modeOf(path.join(dir, 'shared.log')), modeOf(path.join(dir, 'kept.log'))]).toEqual(['600', '640', '644']);
    // Someone loosens the file: the next entry written puts the mode back.
    fs.chmodSync(path.join(dir, 'plain.log'), 0o666);
    await t.call('GET', '/v1/sys/mounts');
    expect(modeOf(path.join(dir, 'plain.log'))).toBe('600');
    // A rotated (removed) file is created again with the mode.
    fs.rmSync(path.join(dir, 'shared.log'));
    await t.call('GET', '/v1/sys/mounts');
    expect(modeOf(path.join(dir, 'shared.log'))).toBe('640');
    expect(modeOf(path.join(dir, 'kept.log'))).toBe('644');
  });
});
