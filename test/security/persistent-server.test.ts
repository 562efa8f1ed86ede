import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { tempDirForTest } from '../support/fixtures.js';
import { runFerry, type RunningProcess } from '../support/process.js';

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
