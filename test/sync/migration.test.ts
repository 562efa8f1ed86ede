import { describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/store/sqlite.js';
import { emptyConnection } from '../../src/sync/destinations.js';
import { LAYOUT_VERSION, migrateRecords } from '../../src/sync/migration.js';
import { DEFAULT_TEMPLATE, SYNC_QUEUE, type Association, type Destination } from '../../src/sync/model.js';
import { SyncRecords } from '../../src/sync/records.js';
import { KV_WATCH_TRACKING_KEY, kvWatchKey } from '../../src/kv/index.js';
import { manualClock } from '../support/clock.js';
import { closeAfterTest } from '../support/fixtures.js';

/**
 * The store migration to ownership records, on the records alone (the end-to-end case with the
 * emulator is in ownership.test.ts): which claims become ownership records, which conflicts,
 * and that it runs once.
 */
const clock = manualClock();
const ARN = (name: string, region = 'us-east-1') => `arn:aws:secretsmanager:${region}:123456789012:secret:${name}-AbCdEf`;

function destination(name: string, region = 'us-east-1'): Destination {
  return {
    type: 'aws-sm',
    name,
    connection: { ...emptyConnection(), region },
    options: { granularity_level: 'secret-path', secret_name_template: '', custom_tags: {} },
    generation: 1,
    created_at: '2026-01-01T00:00:00.000Z',
  };
}

function legacy(dest: string, secret: string, targets: Array<{ name: string; arn?: string; owned: boolean; sub_key?: string }>): Association {
  return {
    dest_type: 'aws-sm',
    dest_name: dest,
    accessor: 'kv_1',
    mount: 'kv/',
    secret_name: secret,
    granularity: targets.length > 1 ? 'secret-key' : 'secret-path',
    template: DEFAULT_TEMPLATE,
    created_at: '2026-01-01T00:00:00.000Z',
    targets: Object.fromEntries(
      targets.map((t) => [
        t.sub_key ?? '',
        { sub_key: t.sub_key ?? '', name: t.name, ...(t.arn ? { arn: t.arn } : {}), status: 'SYNCED', updated_at: '2026-01-01T00:00:00.000Z', owned: t.owned },
      ]),
    ),
  };
}

async function seeded(associations: Association[], destinations: Destination[]) {
  const store = closeAfterTest(new SqliteStore({ path: ':memory:', clock }));
  const records = new SyncRecords(store);
  const change = records.change();
  for (const d of destinations) change.saveDestination(d);
  for (const a of associations) change.saveAssociation(a).index(a);
  await change.commit();
  return { store, records };
}

describe('the migration to ownership records', () => {
  it('records single claims, makes shared ARNs a conflict on each claimant, and compares ARNs rather than names', async () => {
    const { store, records } = await seeded(
      [
        legacy('a', 'one', [{ name: 'vault/one', arn: ARN('vault/one'), owned: true }]),
        legacy('a', 'shared', [{ name: 'vault/shared', arn: ARN('vault/shared'), owned: true }]),
        legacy('b', 'shared', [{ name: 'vault/shared', arn: ARN('vault/shared'), owned: true }]),
        // Same name, another region: another secret.
        legacy('west', 'shared', [{ name: 'vault/shared', arn: ARN('vault/shared', 'us-west-2'), owned: true }]),
        // Never written: nothing to own.
        legacy('a', 'pending', [{ name: 'vault/pending', owned: false }]),
      ],
      [destination('a'), destination('b'), destination('west', 'us-west-2')],
    );
    await migrateRecords(records, clock);

    expect((await records.layout()).value).toBe(LAYOUT_VERSION);
    expect((await records.owned('aws-sm', 'a', 'vault/one'))!.value).toMatchObject({
      state: 'owned',
      via: 'migration',
      arn: ARN('vault/one'),
      accessor: 'kv_1',
      secret_name: 'one',
    });
    expect((await records.owned('aws-sm', 'west', 'vault/shared'))!.value.arn).toBe(ARN('vault/shared', 'us-west-2'));
    expect(await records.owned('aws-sm', 'a', 'vault/shared')).toBeUndefined();
    expect(await records.owned('aws-sm', 'b', 'vault/shared')).toBeUndefined();
    expect(await records.owned('aws-sm', 'a', 'vault/pending')).toBeUndefined();

    const onA = (await records.association('aws-sm', 'a', 'kv_1', 'shared'))!.value.targets['']!;
    expect(onA).toMatchObject({
      status: 'CLIENT_SIDE_ERROR',
      conflict_with: [{ dest: 'aws-sm/b', accessor: 'kv_1', secret_name: 'shared' }],
      arn: ARN('vault/shared'),
    });
    expect(onA.owned).toBeUndefined();
    const one = (await records.association('aws-sm', 'a', 'kv_1', 'one'))!.value.targets['']!;
    expect(one.owned).toBeUndefined();
    expect(one.arn).toBeUndefined();
    expect(one.status).toBe('SYNCED');

    // The migrated associations are re-queued (their secrets get the owner tag); the conflicted ones are not.
    const queued = (await store.pendingOutbox(SYNC_QUEUE)).map((i) => JSON.parse(i.payload) as { dest: string; secret_name: string; reason: string });
    expect(queued.map((q) => `${q.dest}:${q.secret_name}:${q.reason}`).sort()).toEqual(['aws-sm/a:one:ownership', 'aws-sm/west:shared:ownership']);

    // Every name an association syncs to is claimed, per region, so that a later set cannot take it.
    const claimant = (dest: string, secret: string) => ({ dest: `aws-sm/${dest}`, accessor: 'kv_1', secret_name: secret });
    expect((await records.nameClaims('us-east-1', 'vault/shared')).value).toEqual([claimant('a', 'shared'), claimant('b', 'shared')]);
    expect((await records.nameClaims('us-west-2', 'vault/shared')).value).toEqual([claimant('west', 'shared')]);
    expect((await records.nameClaims('us-east-1', 'vault/pending')).value).toEqual([claimant('a', 'pending')]);
  });

  it('runs once: a second run changes nothing', async () => {
    const { store, records } = await seeded([legacy('a', 'one', [{ name: 'vault/one', arn: ARN('vault/one'), owned: true }])], [destination('a')]);
    await migrateRecords(records, clock);
    const before = await store.scan('sync/');
    await migrateRecords(records, clock);
    expect(await store.scan('sync/')).toEqual(before);
    expect(await store.pendingOutbox(SYNC_QUEUE)).toHaveLength(1);
  });

  it('marks the KV mounts of existing associations as watched and the watch records complete (layout 3), in one commit', async () => {
    const { store, records } = await seeded([legacy('a', 'one', [{ name: 'vault/one', owned: false }])], [destination('a')]);
    // A store from before watch records: the association and its by-secret entry, no records.
    await store.commit([{ kind: 'delete', key: kvWatchKey('kv_1') }]);
    expect(await store.get(KV_WATCH_TRACKING_KEY)).toBeUndefined();
    await migrateRecords(records, clock);
    expect(await store.get(kvWatchKey('kv_1'))).toBeDefined();
    expect(await store.get(KV_WATCH_TRACKING_KEY)).toBeDefined();
    expect(await store.get(kvWatchKey('kv_2'))).toBeUndefined();
  });
});
