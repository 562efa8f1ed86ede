import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { startAwsEmulator } from '../support/aws-emulator/index.js';
import { closeAfterTest, tempDirForTest } from '../support/fixtures.js';
import { freeLoopbackPort, runFerry, waitUntil } from '../support/process.js';
import { emulatorDestination } from '../support/sync.js';

/**
 * A real process killed with SIGKILL while a delivery is in flight, restarted on the same
 * database file: the outbox resumes at once and AWS ends with one version, not two. The
 * process runs the worker on its own timers, so the test waits for it (`waitUntil`).
 */
async function startServer(config: string): Promise<{ url: string; proc: ReturnType<typeof runFerry> }> {
  const proc = runFerry(['server', `-config=${config}`]);
  onTestFinished(() => proc.stop());
  await proc.waitFor(/Ferry server started/);
  const [, url] = await proc.waitFor(/Api Address: (\S+)/);
  return { url: url!, proc };
}

describe('sync across a killed process', () => {
  it('resumes a delivery cut off by SIGKILL, makes one AWS version, and tags later secrets with the same cluster id', async () => {
    const emu = closeAfterTest(await startAwsEmulator());
    const dir = tempDirForTest('ferry-crash-');
    const port = await freeLoopbackPort();
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
    await call('PUT', 'sys/sync/destinations/aws-sm/d', emulatorDestination(emu), root);
    await call('PUT', 'my-kv/data/s', { data: { v: 'one' } }, root);
    // The create is applied by AWS only after a delay; the server dies while waiting for it.
    emu.injectFault({ kind: 'latency', latencyMs: 2000, operation: 'CreateSecret', count: 1 });
    await call('PUT', 'sys/sync/destinations/aws-sm/d/associations/set', { mount: 'my-kv', secret_name: 's' }, root);
    // The fault is used up when the CreateSecret arrives: from then on the call is in flight.
    await waitUntil(
      'the CreateSecret to reach the emulator',
      async () => ((await (await fetch(`${emu.adminUrl}/faults`)).json()) as Array<{ count?: number }>).every((f) => f.count === 0),
      { timeoutMs: 5000 },
    );
    expect(emu.listSecretNames('us-east-1')).toEqual([]);
    first.proc.child.kill('SIGKILL');
    await first.proc.exited;
    // AWS still applies the create the dead process sent.
    await waitUntil('the emulator to apply the dead process\'s CreateSecret', () => emu.listSecretNames('us-east-1').length === 1, { timeoutMs: 5000 });

    await startServer(config);
    await call('PUT', 'sys/unseal', { key });
    const accessor: string = (await call('GET', 'sys/mounts/my-kv', undefined, root)).body.data.accessor;
    const name = `vault/${accessor}/s`;
    await waitUntil(
      'the association SYNCED after the restart',
      async () => {
        const res = await call('GET', 'sys/sync/destinations/aws-sm/d/associations', undefined, root);
        return Object.values<any>(res.body.data.associated_secrets)[0]?.sync_status === 'SYNCED';
      },
      { timeoutMs: 15_000 },
    );
    const secret = emu.getSecret('us-east-1', name)!;
    expect(secret.versions).toHaveLength(1);
    expect(secret.versions[0]!.secretString).toBe('{"v":"one"}');

    // The owner tag names the same cluster after the restart: its id is stored, not made per process.
    await call('PUT', 'my-kv/data/t', { data: { v: 'two' } }, root);
    await call('PUT', 'sys/sync/destinations/aws-sm/d/associations/set', { mount: 'my-kv', secret_name: 't' }, root);
    const second = await waitUntil('the second secret in AWS', () => emu.getSecret('us-east-1', `vault/${accessor}/t`), { timeoutMs: 15_000 });
    const owner = (s: { tags: Array<{ Key: string; Value: string }> }) => s.tags.find((tag) => tag.Key === 'ferry:owner')?.Value;
    expect(owner(second)).toMatch(/^[0-9a-f-]{36}\/aws-sm\/d$/);
    expect(owner(second)).toBe(owner(secret));
    // …and it is the id sys/seal-status reports.
    expect(owner(second)!.split('/')[0]).toBe((await call('GET', 'sys/seal-status')).body.cluster_id);
  }, 40_000);
});
