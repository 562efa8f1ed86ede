import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { tempDirForTest } from '../support/fixtures.js';
import { FERRY_BIN, runFerry, runProcess, type RunningProcess } from '../support/process.js';

/** `ferry server -config=...`, once it has started; stopped when the test finishes. */
async function serve(config: string): Promise<{ p: RunningProcess; url: string }> {
  const p = runFerry(['server', `-config=${config}`]);
  onTestFinished(() => p.stop());
  const [, url] = await p.waitFor(/Api Address: (http:\/\/127\.0\.0\.1:\d+)/);
  await p.waitFor(/Ferry server started/);
  return { p, url: url! };
}

const json = async (res: Response): Promise<{ status: number; body: any }> => ({ status: res.status, body: res.status === 204 ? null : await res.json() });

describe('ferry server -config with a SQLite file', () => {
  it('starts uninitialised, is sealed after init, serves once unsealed, and is sealed again after a restart', async () => {
    const dir = tempDirForTest();
    const config = path.join(dir, 'ferry.hcl');
    fs.writeFileSync(config, `listener "tcp" {\n  address = "127.0.0.1:0"\n  tls_disable = true\n}\nstorage "sqlite" {\n  path = "${dir}/ferry.db"\n}\n`);

    const first = await serve(config);
    const p = first.p;
    let url = first.url;
    expect(p.stdout()).not.toMatch(/Root Token|Unseal Key/);
    expect((await json(await fetch(`${url}/v1/sys/health`))).status).toBe(501);
    const init = await json(await fetch(`${url}/v1/sys/init`, { method: 'PUT', body: JSON.stringify({ secret_shares: 2, secret_threshold: 2 }) }));
    expect(init.status).toBe(200);
    const { keys, root_token: root } = init.body;
    expect((await json(await fetch(`${url}/v1/sys/mounts`, { headers: { 'X-Vault-Token': root } }))).body).toEqual({ errors: ['Vault is sealed'] });
    for (const key of keys) await fetch(`${url}/v1/sys/unseal`, { method: 'PUT', body: JSON.stringify({ key }) });
    const put = await fetch(`${url}/v1/sys/policies/acl/kept`, { method: 'PUT', headers: { 'X-Vault-Token': root }, body: JSON.stringify({ policy: 'path "a" { capabilities = ["read"] }' }) });
    expect(put.status).toBe(204);

    await p.stop();
    url = (await serve(config)).url;
    const status = await json(await fetch(`${url}/v1/sys/seal-status`, { headers: { 'X-Vault-Token': root } }));
    expect(status.body).toMatchObject({ initialized: true, sealed: true, t: 2, n: 2, progress: 0, storage_type: 'sqlite' });
    expect((await json(await fetch(`${url}/v1/sys/policies/acl/kept`, { headers: { 'X-Vault-Token': root } }))).status).toBe(503);
    for (const key of keys) await fetch(`${url}/v1/sys/unseal`, { method: 'PUT', body: JSON.stringify({ key }) });
    const read = await json(await fetch(`${url}/v1/sys/policies/acl/kept`, { headers: { 'X-Vault-Token': root } }));
    expect(read.status).toBe(200);
    expect(read.body.data).toEqual({ name: 'kept', policy: 'path "a" { capabilities = ["read"] }' });
  });
});

describe('a fresh ferry server -config', () => {
  it('creates the database file, its WAL and the audit log mode 0600 (under a umask that would allow 0644), and honours the listener keys of its file (a JSON limit, the header and idle timeouts)', async () => {
    const dir = tempDirForTest();
    const config = path.join(dir, 'ferry.hcl');
    fs.writeFileSync(
      config,
      `listener "tcp" {\n  address = "127.0.0.1:0"\n  tls_disable = true\n  http_read_header_timeout = "1s"\n  http_idle_timeout = "1s"\n  max_json_object_entry_count = 3\n}\nstorage "sqlite" {\n  path = "${dir}/ferry.db"\n}\n`,
    );
    // A umask of 022 (the common default): files created without an explicit mode would be 0644.
    const p = runProcess('sh', ['-c', `umask 022 && exec "${process.execPath}" "${FERRY_BIN}" server -config="${config}"`]);
    onTestFinished(() => p.stop());
    const [, url] = await p.waitFor(/Api Address: (http:\/\/127\.0\.0\.1:\d+)/);
    await p.waitFor(/Ferry server started/);
    const init = await json(await fetch(`${url}/v1/sys/init`, { method: 'PUT', body: JSON.stringify({ secret_shares: 1, secret_threshold: 1 }) }));
    const root = init.body.root_token as string;
    await fetch(`${url}/v1/sys/unseal`, { method: 'PUT', body: JSON.stringify({ key: init.body.keys[0] }) });
    const headers = { 'X-Vault-Token': root };
    const audit = path.join(dir, 'audit.log');
    expect((await fetch(`${url}/v1/sys/audit/file`, { method: 'PUT', headers, body: JSON.stringify({ type: 'file', options: { file_path: audit } }) })).status).toBe(204);
    expect((await fetch(`${url}/v1/sys/mounts/kv`, { method: 'POST', headers, body: JSON.stringify({ type: 'kv-v2' }) })).status).toBe(204);
    expect((await fetch(`${url}/v1/kv/data/a`, { method: 'PUT', headers, body: JSON.stringify({ data: { v: '1' } }) })).status).toBe(200);

    const mode = (file: string) => (fs.statSync(file).mode & 0o777).toString(8);
    expect(fs.existsSync(`${dir}/ferry.db-wal`)).toBe(true);
    expect({ db: mode(`${dir}/ferry.db`), wal: mode(`${dir}/ferry.db-wal`), audit: mode(audit) }).toEqual({ db: '600', wal: '600', audit: '600' });
    for (const suffix of ['-shm', '-journal']) if (fs.existsSync(`${dir}/ferry.db${suffix}`)) expect(mode(`${dir}/ferry.db${suffix}`)).toBe('600');

    // The listener keys of the file are in force: a 4-key object is over the configured count…
    const many = await json(await fetch(`${url}/v1/kv/data/b`, { method: 'PUT', headers, body: JSON.stringify({ data: { a: 1, b: 2, c: 3, d: 4 } }) }));
    expect(many).toEqual({ status: 400, body: { errors: ['JSON object exceeds allowed entry count'] } });
    // …and a connection that sends nothing is closed at the configured 1 s header timeout.
    const { port } = new URL(url);
    const silent = net.connect(Number(port), '127.0.0.1');
    silent.on('error', () => undefined);
    const closedWith = await new Promise<string>((resolve) => {
      let got = '';
      silent.on('data', (c) => (got += c.toString()));
      silent.on('close', () => resolve(got));
    });
    expect(closedWith).toBe('');
    // …and a kept-alive connection is closed once idle for the configured 1 s, after its answer.
    const kept = net.connect(Number(port), '127.0.0.1');
    kept.on('error', () => undefined);
    const keptGot = await new Promise<string>((resolve) => {
      let got = '';
      kept.on('connect', () => kept.write('GET /v1/sys/health HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n'));
      kept.on('data', (c) => (got += c.toString()));
      kept.on('close', () => resolve(got));
    });
    expect(keptGot).toMatch(/^HTTP\/1\.1 200/);
    expect(keptGot).not.toMatch(/connection: close/i);
  });
});
