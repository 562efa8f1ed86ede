import { beforeEach, describe, expect, it } from 'vitest';
import { SyncRecords } from '../../src/sync/records.js';
import { guidePolicies } from '../support/aws-emulator/index.js';
import { emulatorDestination, syncIdentity, useSyncScenario } from '../support/sync.js';

/**
 * Destinations of one account and region racing for one AWS name over real sockets, many
 * requests in flight at once: exactly one association per name is accepted, the others get the
 * 400 naming the winner, and only the winner's secret is ever written. Each name is already
 * synced by a destination of another account, so every set has to learn accounts (STS calls)
 * between reading the name's claims and committing its own: the sets really interleave there.
 */
const s = useSyncScenario('drained');
const NAMES = 8;

beforeEach(async () => {
  await s.cli('POST', 'sys/mounts/my-kv', { type: 'kv-v2' });
});

describe('racing association sets', () => {
  it('accept exactly one claimant per AWS name, whatever the interleaving', async () => {
    const dests = ['a', 'b', 'c'];
    for (const d of dests) {
      const { keys } = syncIdentity(s.emu, `ferry-race-${d}`, { minimal: guidePolicies.MINIMAL });
      // Every destination renders `vault-race-<first path segment>`: a/<n>, b/<n> and c/<n> collide on name n.
      const body = emulatorDestination(s.emu, { ...keys, secret_name_template: 'vault-race-{{ .SecretPath | replace "/" "-" | truncate 1 }}' });
      expect((await s.cli('PUT', `sys/sync/destinations/aws-sm/${d}`, body)).status).toBe(200);
    }
    s.emu.mapAccessKey('AKIAOTHERACCOUNT0002', 'other-account-secret', '210987654321');
    const other = emulatorDestination(s.emu, {
      access_key_id: 'AKIAOTHERACCOUNT0002',
      secret_access_key: 'other-account-secret',
      secret_name_template: 'vault-race-{{ .SecretPath | replace "/" "-" | truncate 1 }}',
    });
    expect((await s.cli('PUT', 'sys/sync/destinations/aws-sm/x', other)).status).toBe(200);
    for (let n = 0; n < NAMES; n++) {
      expect((await s.cli('PUT', `my-kv/data/${n}/x`, { data: { owner: 'x' } })).status).toBe(200);
      expect((await s.cli('PUT', 'sys/sync/destinations/aws-sm/x/associations/set', { mount: 'my-kv', secret_name: `${n}/x` })).status).toBe(200);
    }
    const sets: Array<Promise<{ d: string; n: number; status: number; errors?: string[] }>> = [];
    for (let n = 0; n < NAMES; n++) {
      for (const d of dests) expect((await s.cli('PUT', `my-kv/data/${n}/${d}`, { data: { owner: d } })).status).toBe(200);
    }
    for (let n = 0; n < NAMES; n++) {
      for (const d of dests) {
        sets.push(
          s
            .cli('PUT', `sys/sync/destinations/aws-sm/${d}/associations/set`, { mount: 'my-kv', secret_name: `${n}/${d}` })
            .then((res) => ({ d, n, status: res.status, errors: res.body?.errors })),
        );
      }
    }
    const results = await Promise.all(sets);
    const records = new SyncRecords(s.server.core.store);
    for (let n = 0; n < NAMES; n++) {
      const forName = results.filter((r) => r.n === n);
      const winners = forName.filter((r) => r.status === 200);
      expect(winners).toHaveLength(1);
      const winner = winners[0]!.d;
      for (const loser of forName.filter((r) => r.status !== 200)) {
        expect(loser.status).toBe(400);
        expect(loser.errors![0]).toContain(`is already synced by destination aws-sm/${winner} (`);
      }
      expect((await records.nameClaims('us-east-1', `vault-race-${n}`)).value.map((c) => c.dest)).toEqual(['aws-sm/x', `aws-sm/${winner}`]);
    }
    for (let i = 0; i < 3; i++) {
      s.clock.advance(1_000);
      await s.server.sync.worker.drainOnce();
    }
    for (let n = 0; n < NAMES; n++) {
      const winner = results.find((r) => r.n === n && r.status === 200)!.d;
      const secret = s.emu.getSecret('us-east-1', `vault-race-${n}`)!;
      expect(secret.versions.map((v) => v.secretString)).toEqual([JSON.stringify({ owner: winner })]);
      expect(s.emu.getSecret('us-east-1', `vault-race-${n}`, '210987654321')!.versions.map((v) => v.secretString)).toEqual(['{"owner":"x"}']);
    }
  });
});
