import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { startAwsEmulator } from '../support/aws-emulator/index.js';
import { closeAfterTest, tempDirForTest } from '../support/fixtures.js';
import { runFerry } from '../support/process.js';
import { TEST_ACCESS_KEY } from '../support/sync.js';

/**
 * What a Ferry process can still reach in its heap: a V8 heap snapshot (written by Node on a
 * signal, after a full garbage collection, so it holds only what is still referenced) searched
 * for a string. Ferry runs in its own process, so nothing of this test's own memory is in it.
 */
async function heapHolds(
  ferry: ReturnType<typeof runFerry>,
  dir: string,
  url: string,
  needles: Record<string, string>,
): Promise<Record<string, boolean>> {
  const before = new Set(fs.readdirSync(dir));
  ferry.child.kill('SIGUSR2');
  let file = '';
  await vi.waitFor(
    () => {
      file = fs.readdirSync(dir).find((f) => f.endsWith('.heapsnapshot') && !before.has(f)) ?? '';
      expect(file).not.toBe('');
    },
    { timeout: 30_000, interval: 100 },
  );
  // Node writes the snapshot on the event loop: a request answered after the file appeared was
  // answered after the snapshot was complete.
  await fetch(`${url}/v1/sys/health`);
  const text = fs.readFileSync(path.join(dir, file), 'latin1');
  fs.rmSync(path.join(dir, file));
  return Object.fromEntries(Object.entries(needles).map(([name, needle]) => [name, text.includes(needle)]));
}

describe('sealing drops what Ferry and its AWS SDK clients held', () => {
  it('after seal no AWS secret key (from a destination or from ~/.aws/credentials) and no synced value is left reachable in the heap', async () => {
    const dir = tempDirForTest('ferry-heap-');
    const home = path.join(dir, 'home');
    fs.mkdirSync(path.join(home, '.aws'), { recursive: true });
    const unique = (label: string) => `${label}${randomBytes(12).toString('hex')}`;
    const needles = { iniKey: unique('IniFileSecretKey'), destinationKey: unique('DestinationSecretKey'), value: unique('SyncedValue') };
    fs.writeFileSync(path.join(home, '.aws', 'credentials'), `[default]\naws_access_key_id = AKIAFERRYTEST0000002\naws_secret_access_key = ${needles.iniKey}\n`);
    fs.writeFileSync(path.join(home, '.aws', 'config'), '[default]\nregion = us-east-1\n');
    const emu = closeAfterTest(await startAwsEmulator());
    const ferry = runFerry(['server', '-dev', '-dev-root-token-id=root', '-dev-listen-address=127.0.0.1:0'], {
      HOME: home,
      AWS_EC2_METADATA_DISABLED: 'true',
      NODE_OPTIONS: `--heapsnapshot-signal=SIGUSR2 --diagnostic-dir=${dir}`,
    });
    onTestFinished(() => ferry.stop());
    const [, url] = await ferry.waitFor(/export VAULT_ADDR='([^']+)'/);
    const call = async (method: string, p: string, body?: unknown) =>
      (await fetch(`${url}/v1/${p}`, { method, headers: { 'x-vault-token': 'root' }, body: body === undefined ? undefined : JSON.stringify(body) })).status;

    expect(await call('POST', 'sys/mounts/kv', { type: 'kv-v2' })).toBe(204);
    expect(await call('PUT', 'kv/data/s', { data: { v: needles.value } })).toBe(200);
    // One destination with static keys, one on the SDK's default chain (which reads ~/.aws/credentials).
    const destinations = {
      static: { access_key_id: TEST_ACCESS_KEY, secret_access_key: needles.destinationKey, region: 'us-east-1', endpoint_url: emu.endpoint },
      // Its own secret name: two destinations may not own one AWS secret (the second would get a conflict).
      chain: { region: 'us-east-1', endpoint_url: emu.endpoint, secret_name_template: 'chain-{{ .SecretPath }}' },
    };
    for (const [name, body] of Object.entries(destinations)) {
      expect(await call('PUT', `sys/sync/destinations/aws-sm/${name}`, body)).toBe(200);
      expect(await call('PUT', `sys/sync/destinations/aws-sm/${name}/associations/set`, { mount: 'kv', secret_name: 's' })).toBe(200);
    }
    // Both deliveries reached AWS: the SDK read the credentials file and used both keys.
    await vi.waitFor(() => expect(emu.listSecretNames('us-east-1')).toHaveLength(2), { timeout: 15_000 });
    await vi.waitFor(
      async () => {
        for (const name of Object.keys(destinations)) {
          const res = await fetch(`${url}/v1/sys/sync/destinations/aws-sm/${name}/associations`, { headers: { 'x-vault-token': 'root' } });
          expect(JSON.stringify(await res.json())).toContain('"SYNCED"');
        }
      },
      { timeout: 15_000 },
    );
    expect(emu.requestLog().some((entry) => JSON.stringify(entry).includes('AKIAFERRYTEST0000002'))).toBe(true);
    expect(await call('GET', 'kv/data/s')).toBe(200);

    // The search sees each of them while unsealed…
    expect(await heapHolds(ferry, dir, url, needles)).toEqual({ iniKey: true, destinationKey: true, value: true });
    expect(await call('PUT', 'sys/seal')).toBe(204);
    // …and none once sealed.
    expect(await heapHolds(ferry, dir, url, needles)).toEqual({ iniKey: false, destinationKey: false, value: false });
  }, 90_000);
});
