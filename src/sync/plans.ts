import { z } from 'zod';
import type { Association, Destination, TargetState } from './model.js';
import { judgeByTags, ownerTagValue } from './ownership.js';
import type { AdapterRegistry } from './port.js';
import type { SyncRecords } from './records.js';

/**
 * Plans (`dry_run=true`, a Ferry extension): what a change would do in AWS, per AWS name,
 * worked out from Ferry's records and — where they cannot tell — a `DescribeSecret`, and
 * nothing written (not even the outbox). The rules are the delivery's (`target-writes.ts`):
 * a name Ferry has a record of is updated (or deleted); a name without one is created if AWS
 * has no secret there, written if it carries this destination's owner tag, adopted on
 * `adopt=true` if it carries no Ferry owner tag, and otherwise left alone (a conflict). When
 * Ferry may not read AWS (no DescribeSecret), what it would do is `unknown`.
 */

export const planStep = z.object({
  action: z.enum(['create', 'update', 'rename', 'delete', 'adopt', 'conflict', 'unknown']),
  /** The AWS secret name (for a rename, the new one). */
  name: z.string(),
  /** A rename's old name. */
  old_name: z.string().optional(),
  /** Whose the secret is, for a conflict: another association, or the owner tag's destination. */
  owner: z.string().optional(),
  reason: z.string().optional(),
});
export type PlanStep = z.infer<typeof planStep>;

export interface PlannerDeps {
  records: SyncRecords;
  adapters: Pick<AdapterRegistry, 'adapterFor'>;
  clusterId(): Promise<string>;
}

/** AWS lookups one plan makes at most (a prefix over thousands of secrets): the rest are `unknown`. */
export const PLAN_DESCRIBE_LIMIT = 1_000;

/** What one plan may still ask AWS. */
export interface PlanBudget {
  describes: number;
}

const UNREADABLE =
  'AWS denied secretsmanager:DescribeSecret: Ferry cannot tell whether a secret exists there; it creates one if there is none and writes nothing if there is';

export class Planner {
  constructor(private readonly deps: PlannerDeps) {}

  /**
   * The steps of syncing `next` (an association as a set would store it) where `previous` was:
   * each current target's name, renames of targets whose name changed, deletions of names left.
   */
  async forSet(
    dest: Destination,
    next: Association,
    previous: Association | undefined,
    adopt: boolean,
    budget: PlanBudget = { describes: PLAN_DESCRIBE_LIMIT },
  ): Promise<PlanStep[]> {
    const steps: PlanStep[] = [];
    const kept = previous && !previous.removing ? previous : undefined;
    const renamedFrom = new Set<string>();
    for (const [subKey, t] of Object.entries(next.targets)) {
      if (subKey.startsWith('retired:')) continue;
      // A target in error (a name another association syncs) is the caller's to report: it is never written.
      if (t.name.startsWith('invalid:')) continue;
      const old = kept?.targets[subKey];
      if (old && old.name !== t.name && (await this.ownedBy(dest, old, next))) {
        renamedFrom.add(old.name);
        const target = await this.judge(dest, next, t, adopt, budget);
        // A rename is a create of the new name and a delete of the old one; anything else about the new name wins.
        steps.push(target.action === 'create' ? { action: 'rename', name: t.name, old_name: old.name } : target);
        if (target.action !== 'create') steps.push({ action: 'delete', name: old.name });
        continue;
      }
      steps.push(await this.judge(dest, next, t, adopt, budget));
    }
    for (const [subKey, t] of Object.entries(next.targets)) {
      if (!subKey.startsWith('retired:') || renamedFrom.has(t.name)) continue;
      if (await this.ownedBy(dest, t, next)) steps.push({ action: 'delete', name: t.name });
    }
    return steps;
  }

  /** The steps of unsyncing an association: a delete of each name Ferry owns for it (others are left in AWS). */
  async forRemoval(dest: Destination, a: Association): Promise<PlanStep[]> {
    const steps: PlanStep[] = [];
    for (const t of Object.values(a.targets)) {
      if (!t.name.startsWith('invalid:') && !t.conflict_with && (await this.ownedBy(dest, t, a))) steps.push({ action: 'delete', name: t.name });
    }
    return steps;
  }

  private async ownedBy(dest: Destination, t: TargetState, a: Association): Promise<boolean> {
    const o = (await this.deps.records.owned(dest.type, dest.name, t.name))?.value;
    return o !== undefined && o.accessor === a.accessor && o.secret_name === a.secret_name;
  }

  /** What a delivery would do with one target name of `a`. */
  private async judge(dest: Destination, a: Association, t: TargetState, adopt: boolean, budget: PlanBudget): Promise<PlanStep> {
    const name = t.name;
    const o = (await this.deps.records.owned(dest.type, dest.name, name))?.value;
    if (o && (o.accessor !== a.accessor || o.secret_name !== a.secret_name)) {
      return { action: 'conflict', name, owner: `${dest.type}/${dest.name} (${o.accessor}/${o.secret_name})`, reason: 'another association of this destination syncs it' };
    }
    if (o?.state === 'owned') return { action: 'update', name };
    if (budget.describes <= 0) return { action: 'unknown', name, reason: `not looked up: a plan asks AWS about ${PLAN_DESCRIBE_LIMIT} names at most` };
    budget.describes--;
    let existing;
    try {
      existing = await this.deps.adapters.adapterFor(dest).describe(name);
    } catch (err) {
      return { action: 'unknown', name, reason: `AWS could not be asked: ${(err as Error).message}` };
    }
    if (existing === undefined) return { action: 'create', name };
    if ('action' in existing) return { action: 'unknown', name, reason: UNREADABLE };
    const verdict = judgeByTags(existing.tags, ownerTagValue(await this.deps.clusterId(), dest));
    if (verdict.kind === 'own') return { action: 'update', name };
    if (verdict.kind === 'other') return { action: 'conflict', name, owner: verdict.owner, reason: 'the secret carries another Ferry destination\'s ferry:owner tag' };
    if (adopt) return { action: 'adopt', name, reason: 'a pre-existing secret without a Ferry owner tag: taken over, its value kept as AWSPREVIOUS' };
    return { action: 'conflict', name, reason: 'a pre-existing secret Ferry did not create: it is not written (adopt=true, with sudo, takes it over)' };
  }
}
