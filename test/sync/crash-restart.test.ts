import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runFerry, type RunningProcess } from '../support/process.js';
import { startAwsEmulator, type AwsEmulator } from '../support/aws-emulator/index.js';
import { eventually, TEST_ACCESS_KEY, TEST_SECRET_KEY } from '../support/sync.js';

/**
 * A real process killed with SIGKILL while a delivery is in flight, restarted on the same
 * database file: the outbox resumes at once and AWS ends with one version, not two.
 */
let emu: AwsEmulator | undefined;
const processes: RunningProcess[] = [];
afterEach(async () => {
  for (const p of processes.splice(0)) await p.stop();
  await emu?.close();
});

async function startServer(config: string): Promise<{ url: string; proc: RunningProcess }> {
  const proc = runFerry(['server', `-config=${config}`]);
  processes.push(proc);
  await proc.waitFor(/Ferry server started/);
  const [, url] = await proc.waitFor(/Api Address: (\S+)/);
  return { url: url!, proc };
}

describe('sync across a killed process', () => {
  it('resumes a delivery cut off by SIGKILL and makes one AWS version', async () => {
    emu = await startAwsEmulator();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-crash-'));
    const port = 20000 + Math.floor(Math.random() * 20000);
    const config = path.join(dir, 'ferry.hcl');
    fs.writeFileSync(
      config,
      `listener "tcp" {\n  address = "127.0.0.1:${port}"\n  tls_disable = true\n}\nstorage "sqlite" {\n  path = "${dir}/ferry.db"\n}\napi_addr = "http://127.0.0.1:${port}"\nlog_level = "error"\n`,
    );
    const first = await startServer(config);
    expect(first.url).toBe(`http://127.0.0.1:${port}`);
    const url = `http://127.0.0.1:${port}`;
    const call = async (method: string, p: string, body?: unknown, token?: string) => {
      const res = await fetch(`${url}/v1/${p}`, {
        method,
        headers: token ? { 'X-Vault-Token': token } : {},
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : undefined };
    };
    const init = await call('PUT', 'sys/init', { secret_shares: 1, secret_threshold: 1 });
    const key: string = init.body.keys[0];
    const root: string = init.body.root_token;
    await call('PUT', 'sys/unseal', { key });
    await call('POST', 'sys/mounts/my-kv', { type: 'kv-v2' }, root);
    await call('PUT', 'sys/sync/destinations/aws-sm/d', {
      access_key_id: TEST_ACCESS_KEY,
      secret_access_key: TEST_SECRET_KEY,
      region: 'us-east-1',
      endpoint_url: emu.endpoint,
    }, root);
    await call('PUT', 'my-kv/data/s', { data: { v: 'one' } }, root);
    // The create is applied by AWS only after a delay; the server dies while waiting for it.
    emu.injectFault({ kind: 'latency', latencyMs: 2000, operation: 'CreateSecret', count: 1 });
    await call('PUT', 'sys/sync/destinations/aws-sm/d/associations/set', { mount: 'my-kv', secret_name: 's' }, root);
    // The fault is used up when the CreateSecret arrives: from then on the call is in flight.
    await eventually(
      async () => ((await (await fetch(`${emu!.adminUrl}/faults`)).json()) as Array<{ count?: number }>).every((f) => f.count === 0),
      5000,
      'the create to arrive',
    );
    expect(emu.listSecretNames('us-east-1')).toEqual([]);
    first.proc.child.kill('SIGKILL');
    await first.proc.exited;
    // AWS still applies the create the dead process sent.
    await eventually(() => emu!.listSecretNames('us-east-1').length === 1, 5000, 'the create to be applied');

    await startServer(config);
    await call('PUT', 'sys/unseal', { key });
    const accessor: string = (await call('GET', 'sys/mounts/my-kv', undefined, root)).body.data.accessor;
    const name = `vault/${accessor}/s`;
    await eventually(async () => {
      const res = await call('GET', 'sys/sync/destinations/aws-sm/d/associations', undefined, root);
      return Object.values<any>(res.body.data.associated_secrets)[0]?.sync_status === 'SYNCED';
    }, 15_000, 'SYNCED after the restart');
    const secret = emu.getSecret('us-east-1', name)!;
    expect(secret.versions).toHaveLength(1);
    expect(secret.versions[0]!.secretString).toBe('{"v":"one"}');
  }, 40_000);
});
