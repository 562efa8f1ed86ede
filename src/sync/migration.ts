import { withRetry } from '../store/store.js';
import { nowIso, type Association, type Destination, type NameClaimant, type TargetState } from './model.js';
import { claimantOf } from './name-claims.js';
import { ownershipErrors, type Claimant } from './ownership.js';
import { splitDestinationRef, type Row, type SyncRecords } from './records.js';

/** The layout of sync's records this code reads and writes. 1: ownership records; 2: name claims; 3: KV watch records. */
export const LAYOUT_VERSION = 3;

interface Claim {
  row: Row<Association>;
  target: TargetState;
}

/**
 * Moves ownership out of the association records (layout 0: `owned` and `arn` on each target,
 * true for secrets Ferry created *and* for those it adopted by their `hashicorp:vault` tag)
 * into ownership records. A secret claimed by one association stays owned by it. One claimed
 * by several (two destinations that both synced to it: one created, the others adopted) is a
 * conflict on every claimant, named in their statuses, and is neither written nor deleted until
 * only one claimant is left (`resolveClaimConflict`). Claims are compared by ARN,
 * which names the account and region: one name in two regions is two secrets.
 *
 * One atomic commit, checked against every association it read, so that a concurrent API
 * change makes it run again rather than be lost; it re-queues the migrated associations, whose
 * secrets then get the owner tag. Runs before the worker's first round (`index.ts`).
 */
export async function migrateRecords(records: SyncRecords, clock: () => number): Promise<void> {
  await migrateOwnership(records, clock);
  await claimNames(records);
  await watchKvMounts(records);
}

/**
 * Layout 3: KV's watch records (`kvWatchKey` in `kv/events.ts`) of every mount with an
 * associated secret, and the record that declares them complete, in one commit: from then on
 * a change of a mount without associations appends no event. An association set meanwhile
 * writes its mount's record itself, so the listing need not be checked.
 */
async function watchKvMounts(records: SyncRecords): Promise<void> {
  await withRetry(async () => {
    const layout = await records.layout();
    if (layout.value >= 3) return;
    await records.change().saveLayout(3, layout.revision).watchAll(await records.syncedMountAccessors()).commit();
  });
}

/** Layout 1 (see above). */
async function migrateOwnership(records: SyncRecords, clock: () => number): Promise<void> {
  await withRetry(async () => {
    const layout = await records.layout();
    if (layout.value >= 1) return;
    const at = nowIso(clock());
    const rows = await records.allAssociations();
    const destinations = new Map<string, Destination | undefined>();
    const claims = new Map<string, Claim[]>();
    for (const row of rows) {
      const a = row.value;
      const destKey = `${a.dest_type}/${a.dest_name}`;
      if (!destinations.has(destKey)) destinations.set(destKey, (await records.destination(a.dest_type, a.dest_name))?.value);
      for (const target of Object.values(a.targets)) {
        if (!target.owned) continue;
        // Without an ARN (never the case in practice), the region stands in for the account.
        const id = target.arn ?? `${destinations.get(destKey)?.connection.region ?? ''}:${target.name}`;
        claims.set(id, [...(claims.get(id) ?? []), { row, target }]);
      }
    }
    const change = records.change().saveLayout(1, layout.revision);
    const requeue = new Set<Row<Association>>();
    for (const group of claims.values()) {
      if (group.length === 1) {
        const [{ row, target }] = group as [Claim];
        const a = row.value;
        change.saveOwned(a.dest_type, a.dest_name, {
          name: target.name,
          accessor: a.accessor,
          secret_name: a.secret_name,
          sub_key: target.sub_key,
          state: 'owned',
          via: 'migration',
          ...(target.arn ? { arn: target.arn } : {}),
          recorded_at: at,
        });
        delete target.arn;
        requeue.add(row);
        continue;
      }
      for (const { row, target } of group) {
        const others = group.filter((c) => c.row !== row).map((c) => claimantOf(c.row.value));
        const error = ownershipErrors.claimConflict(target.name, others);
        // The ARN stays on the target: the owner's record, once the conflict is resolved.
        Object.assign(target, { conflict_with: others, status: error.status, last_error: error.message, updated_at: at } satisfies Partial<TargetState>);
      }
    }
    for (const row of rows) {
      const legacy = Object.values(row.value.targets).some((t) => 'owned' in t);
      for (const t of Object.values(row.value.targets)) {
        delete t.owned;
        if (!t.conflict_with) delete t.arn;
      }
      if (legacy) change.saveAssociation(row.value, row.revision);
      if (requeue.has(row)) change.enqueueSync(row.value, 'ownership');
    }
    await change.commit();
  });
}

/**
 * Layout 2: the name claims (`name-claims.ts`) of the associations that exist, so that an
 * association set after the upgrade is refused a name one of them syncs. Claims recorded
 * meanwhile (by sets before the worker's first round) are kept; one commit, revision-checked.
 */
async function claimNames(records: SyncRecords): Promise<void> {
  await withRetry(async () => {
    const layout = await records.layout();
    if (layout.value >= 2) return;
    const regions = new Map<string, string | undefined>();
    const claims = new Map<string, { region: string; name: string; claimants: NameClaimant[] }>();
    for (const { value: a } of await records.allAssociations()) {
      const destKey = `${a.dest_type}/${a.dest_name}`;
      if (!regions.has(destKey)) regions.set(destKey, (await records.destination(a.dest_type, a.dest_name))?.value.connection.region);
      const region = regions.get(destKey);
      if (region === undefined) continue;
      for (const t of Object.values(a.targets)) {
        if (t.name.startsWith('invalid:')) continue;
        const id = `${region}\u0000${t.name}`;
        const entry = claims.get(id) ?? { region, name: t.name, claimants: [] };
        if (!entry.claimants.some((c) => c.dest === destKey && c.accessor === a.accessor && c.secret_name === a.secret_name)) entry.claimants.push(claimantOf(a));
        claims.set(id, entry);
      }
    }
    const change = records.change().saveLayout(2, layout.revision);
    for (const { region, name, claimants } of claims.values()) {
      const row = await records.nameClaims(region, name);
      const kept = row.value.filter((c) => !claimants.some((m) => m.dest === c.dest && m.accessor === c.accessor && m.secret_name === c.secret_name));
      change.saveNameClaims(region, name, [...kept, ...claimants], row.revision);
    }
    await change.commit();
  });
}

/**
 * A target the migration found claimed by several associations stays untouched until the
 * others are gone (removed, or no longer syncing to that name): true then, and the secret is
 * this association's again (its ownership record is written). Otherwise the target's status
 * names the claimants still there, and false.
 */
export async function resolveClaimConflict(
  records: SyncRecords,
  destination: Pick<Destination, 'type' | 'name'>,
  association: Association,
  t: TargetState,
  at: string,
): Promise<boolean> {
  const still: Claimant[] = [];
  for (const c of t.conflict_with ?? []) {
    const { type, name } = splitDestinationRef(c.dest);
    const other = await records.association(type, name, c.accessor, c.secret_name);
    if (other && !other.value.removing && Object.values(other.value.targets).some((o) => o.name === t.name && o.conflict_with)) still.push(c);
  }
  if (still.length > 0) {
    const error = ownershipErrors.claimConflict(t.name, still);
    if (t.last_error !== error.message) Object.assign(t, { status: error.status, last_error: error.message, updated_at: at });
    return false;
  }
  await records
    .change()
    .saveOwned(destination.type, destination.name, {
      name: t.name,
      accessor: association.accessor,
      secret_name: association.secret_name,
      sub_key: t.sub_key,
      state: 'owned',
      via: 'migration',
      ...(t.arn ? { arn: t.arn } : {}),
      recorded_at: at,
    })
    .commit();
  delete t.conflict_with;
  delete t.arn;
  Object.assign(t, { status: 'PENDING', last_error: undefined, updated_at: at, attempts: 0 } satisfies Partial<TargetState>);
  return true;
}
