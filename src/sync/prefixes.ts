import type { Logger } from 'pino';
import type { MountEntry, TokenEntry } from '../kernel/entries.js';
import { FerryError } from '../kernel/errors.js';
import type { Store } from '../store/store.js';
import { RevisionConflict, withRetry } from '../store/store.js';
import { currentNames, draftAssociation, markedRemoving, underPrefix } from './association-draft.js';
import type { SyncDeps } from './deps.js';
import { checkDestinationType } from './destinations.js';
import { syncErrors } from './errors.js';
import { PREFIX_QUEUE, nowIso, type Association, type Destination, type PrefixAssociation, type PrefixStep } from './model.js';
import { claimantOf, type NameClaims, type NameCollision } from './name-claims.js';
import { effectiveTemplate } from './naming.js';
import { PLAN_DESCRIBE_LIMIT, type PlanBudget, type Planner, type PlanStep } from './plans.js';
import { parsePrefixStep, splitDestinationRef, type PrefixRef, type Row, type SyncChange, type SyncRecords } from './records.js';
import type { SecretSource } from './source.js';

/**
 * Prefix associations (a Ferry extension beside Vault's per-secret API): every secret of a
 * mount under a folder is associated with a destination — the existing ones brought in by
 * bounded steps through the `sync-prefix` outbox queue (so that setting a prefix over 10,000
 * secrets answers at once), the ones written later by fan-out (`fan-out.ts`). The associations
 * it makes are ordinary ones (listed, delivered, claimed as any other) marked with the prefix;
 * an explicit association of the same secret is kept apart: removing the prefix unsyncs only
 * what has no explicit association. Each secret is checked, when it is brought in, against the
 * policies (by name, as they stand then) of the token that set the prefix.
 */

/** Secrets handled per step: one commit of at most this many associations. */
export const PREFIX_STEP = 500;

export interface PrefixDeps {
  core: Pick<SyncDeps, 'mounts' | 'authorizer' | 'clock'>;
  records: SyncRecords;
  claims: NameClaims;
  source: SecretSource;
  planner: Planner;
  store: Pick<Store, 'pendingOutbox'>;
  log: Pick<Logger, 'error'>;
  /** The `mount` parameter resolved to a KV v2 mount, with the API's 400s (`SyncService.resolveKvMount`). */
  resolveKvMount(mount: string): MountEntry;
}

/** What happened to one secret a prefix covers. */
type Outcome = 'added' | 'covered' | 'skipped' | 'gone';

/** A valid prefix: '' (the whole mount) or a folder, ending with `/`, without a leading `/` or empty segments. */
function checkPrefix(prefix: string): void {
  if (prefix === '') return;
  if (!prefix.endsWith('/') || prefix.startsWith('/') || prefix.slice(0, -1).split('/').some((s) => s === '')) throw syncErrors.invalidPrefix(prefix);
}

/** The conflict text of a prefix-derived target whose name another association already syncs. */
function conflictText(name: string, c: NameCollision): string {
  const where = c.within === 'destination' ? 'another association of this destination' : `destination ${c.other.dest}, in the same AWS account and region,`;
  return `conflict: the AWS secret name "${name}" is already synced by ${where} (${c.other.accessor}/${c.other.secret_name}); it is not written`;
}

export class PrefixAssociations {
  constructor(private readonly deps: PrefixDeps) {}

  private now(): string {
    return nowIso(this.deps.core.clock());
  }

  /** The mount of a set or remove, with its fields checked (the 400s of a bad type, mount or prefix). */
  private target(type: string, mountParam: string, given: string | undefined): { mount: MountEntry; prefix: string } {
    checkDestinationType(type);
    const mount = this.deps.resolveKvMount(mountParam);
    if (given === undefined) throw syncErrors.missingPrefix();
    checkPrefix(given);
    return { mount, prefix: given };
  }

  /** The prefix associations of a destination. */
  async list(type: string, name: string): Promise<PrefixAssociation[]> {
    return (await this.deps.records.prefixesOf(type, name)).map((r) => r.value);
  }

  /**
   * `prefixes/set`: records the prefix with the setter's policy names and queues its first
   * bring-in step; answers at once. Setting it again (after a policy change, say) brings in what
   * is not associated yet. `dryRun` answers the plan over every secret it covers instead.
   */
  async set(type: string, name: string, mountParam: string, given: string | undefined, token: TokenEntry | null, opts: { dryRun?: boolean } = {}): Promise<PlanStep[] | undefined> {
    const { mount, prefix } = this.target(type, mountParam, given);
    const policies = token ? [...token.policies] : ['root'];
    return withRetry(async () => {
      const destRow = await this.deps.records.destination(type, name);
      if (!destRow) throw syncErrors.destinationNotFound(type, name);
      if (destRow.value.purge_initiated_at) throw syncErrors.destinationPurging(type, name);
      if (opts.dryRun) return this.planSet(destRow.value, mount, prefix, policies);
      const row = await this.deps.records.prefix(type, name, mount.accessor, prefix);
      const record: PrefixAssociation = {
        dest_type: 'aws-sm',
        dest_name: name,
        accessor: mount.accessor,
        mount: mount.path,
        prefix,
        policies,
        created_at: row?.value.created_at ?? this.now(),
        state: 'bringing-in',
        brought_in: row?.value.brought_in ?? 0,
        skipped: 0,
        run: (row?.value.run ?? 0) + 1,
      };
      await this.deps.records
        .change()
        .savePrefix(record, row?.revision ?? 0)
        .clearSkipped(record)
        .indexPrefix(record)
        .enqueuePrefixStep({ kind: 'bring-in', dest: `${type}/${name}`, accessor: mount.accessor, prefix, after: null, run: record.run })
        .checkDestination(type, name, destRow.revision)
        .commit();
      return undefined;
    });
  }

  /**
   * `prefixes/remove`: stops bringing secrets in at once and queues the removal steps, which
   * unsync every association only this prefix made and take the prefix off the others.
   */
  async remove(type: string, name: string, mountParam: string, given: string | undefined, opts: { dryRun?: boolean } = {}): Promise<PlanStep[] | undefined> {
    const { mount, prefix } = this.target(type, mountParam, given);
    return withRetry(async () => {
      const destRow = await this.deps.records.destination(type, name);
      if (!destRow) throw syncErrors.destinationNotFound(type, name);
      const row = await this.deps.records.prefix(type, name, mount.accessor, prefix);
      if (!row) throw syncErrors.prefixNotFound(mount.path, prefix, `${type}/${name}`);
      if (opts.dryRun) {
        const plan: PlanStep[] = [];
        for (const a of await this.deps.records.associationsOf(type, name)) {
          if (a.accessor === mount.accessor && !a.removing && onlyThisPrefix(a, prefix)) plan.push(...(await this.deps.planner.forRemoval(destRow.value, a)));
        }
        return plan;
      }
      if (row.value.state === 'removing') return undefined;
      await this.deps.records
        .change()
        .savePrefix({ ...row.value, state: 'removing' }, row.revision)
        .unindexPrefix(row.value)
        .enqueuePrefixStep({ kind: 'remove', dest: `${type}/${name}`, accessor: mount.accessor, prefix, after: null })
        .commit();
      return undefined;
    });
  }

  /** The plan of a prefix set: what associating each covered secret (the setter may read) would do. */
  private async planSet(dest: Destination, mount: MountEntry, prefix: string, policies: string[]): Promise<PlanStep[]> {
    const plan: PlanStep[] = [];
    const scratch = this.deps.records.change();
    // One budget of AWS lookups for the whole plan, however many secrets the prefix covers.
    const budget: PlanBudget = { describes: PLAN_DESCRIBE_LIMIT };
    for (let after: string | null = null; ; ) {
      const paths = await this.deps.source.list(mount.accessor, prefix, after, PREFIX_STEP);
      for (const path of paths) {
        const existing = await this.deps.records.association(dest.type, dest.name, mount.accessor, path);
        if (existing && !existing.value.removing) continue;
        if (!(await this.mayRead(policies, mount, path))) continue;
        const draft = await this.draft(scratch, dest, mount, path, prefix);
        if (draft) plan.push(...draft.conflicts, ...(await this.deps.planner.forSet(dest, draft.a, undefined, false, budget)));
      }
      if (paths.length < PREFIX_STEP) return plan;
      after = paths.at(-1)!;
    }
  }

  // ---- steps (run by the worker) -----------------------------------------------------------

  /**
   * Runs the oldest pending prefix step, if any: one bounded commit that associates (or takes
   * off) up to `PREFIX_STEP` secrets, updates the prefix's progress, queues the next step and
   * removes this one. A failure leaves the step for the next round. Returns steps run (0 or 1).
   */
  async runStep(): Promise<number> {
    const [item] = await this.deps.store.pendingOutbox(PREFIX_QUEUE, 1);
    if (!item) return 0;
    let step: PrefixStep;
    try {
      step = parsePrefixStep(item.payload);
    } catch {
      this.deps.log.error({ eventId: item.id }, 'sync dropped an unreadable prefix step');
      await this.deps.records.change().dequeue([item.id]).commit();
      return 1;
    }
    try {
      const change = step.kind === 'bring-in' ? await this.bringIn(step) : await this.takeOff(step);
      await change.dequeue([item.id]).commit();
    } catch (err) {
      if (err instanceof RevisionConflict) return 1;
      this.deps.log.error({ err: { message: (err as Error).message }, destination: step.dest, prefix: step.prefix }, 'sync prefix step failed; it is tried again');
      return 0;
    }
    return 1;
  }

  /** One bring-in step: the next `PREFIX_STEP` secrets under the prefix, associated. */
  private async bringIn(step: PrefixStep): Promise<SyncChange> {
    const { records } = this.deps;
    const { type, name } = splitDestinationRef(step.dest);
    const change = records.change();
    const row = await records.prefix(type, name, step.accessor, step.prefix);
    const dest = (await records.destination(type, name))?.value;
    const mount = this.deps.core.mounts.byAccessor(step.accessor);
    // A step of an earlier set's bring-in (the prefix was set again meanwhile) stops: the new one covers everything.
    const current = row?.value.state === 'bringing-in' && (row.value.run ?? 0) === (step.run ?? 0);
    if (!row || !current || !dest || dest.purge_initiated_at || !mount) return change;
    const paths = await this.deps.source.list(step.accessor, step.prefix, step.after, PREFIX_STEP);
    const p = { ...row.value };
    for (const path of paths) this.count(p, await this.associate(change, dest, mount, path, row.value));
    if (paths.length < PREFIX_STEP) p.state = 'complete';
    else change.enqueuePrefixStep({ ...step, after: paths.at(-1)! });
    return change.savePrefix(p, row.revision);
  }

  /** One removal step: the next `PREFIX_STEP` associations of the mount under the prefix lose it; those only it made are unsynced. */
  private async takeOff(step: PrefixStep): Promise<SyncChange> {
    const { records } = this.deps;
    const { type, name } = splitDestinationRef(step.dest);
    const change = records.change();
    const row = await records.prefix(type, name, step.accessor, step.prefix);
    if (!row || row.value.state !== 'removing') return change;
    const secrets = await records.associatedSecretsUnder(type, name, step.accessor, step.prefix, step.after, PREFIX_STEP);
    const at = this.now();
    for (const secret of secrets) {
      const a = await records.association(type, name, step.accessor, secret);
      if (!a || a.value.removing || !a.value.prefixes?.includes(step.prefix)) continue;
      const next: Association = { ...a.value, prefixes: a.value.prefixes.filter((x) => x !== step.prefix) };
      if (next.prefixes!.length === 0) delete next.prefixes;
      if (onlyThisPrefix(a.value, step.prefix)) change.saveAssociation(markedRemoving(next, at), a.revision).enqueueSync(next, 'remove');
      else change.saveAssociation(next, a.revision);
    }
    if (secrets.length < PREFIX_STEP) return change.deletePrefix(row.value, row.revision);
    return change.enqueuePrefixStep({ ...step, after: secrets.at(-1)! }).savePrefix(row.value, row.revision);
  }

  private count(p: PrefixAssociation, outcome: Outcome): void {
    if (outcome === 'added') p.brought_in++;
    else if (outcome === 'skipped') p.skipped++;
  }

  // ---- fan-out --------------------------------------------------------------------------------

  /**
   * For fan-out: associates a written secret that has no association with the destinations
   * whose prefixes cover it (`covering`, from the mount's prefix index), in `change`; the
   * prefixes' progress is updated in the same commit. Destinations the secret already has an
   * association with (`associated`, `<type>/<name>`) are left to the ordinary fan-out.
   */
  async fanOut(change: SyncChange, accessor: string, path: string, covering: PrefixRef[], associated: Set<string>, progress: Map<string, Row<PrefixAssociation>>): Promise<void> {
    const mount = this.deps.core.mounts.byAccessor(accessor);
    if (!mount) return;
    // Per destination, every prefix of it that covers the secret (overlapping ones: `apps/` and `apps/x/`).
    const byDest = new Map<string, Array<Row<PrefixAssociation>>>();
    for (const ref of covering) {
      const dest = `${ref.dest_type}/${ref.dest_name}`;
      if (associated.has(dest) || !underPrefix(path, ref.prefix)) continue;
      const key = `${dest}|${accessor}|${ref.prefix}`;
      const row = progress.get(key) ?? (await this.deps.records.prefix(ref.dest_type, ref.dest_name, accessor, ref.prefix));
      if (!row || row.value.state === 'removing') continue;
      progress.set(key, row);
      byDest.set(dest, [...(byDest.get(dest) ?? []), row]);
    }
    for (const rows of byDest.values()) {
      const { dest_type, dest_name } = rows[0]!.value;
      const destination = (await this.deps.records.destination(dest_type, dest_name))?.value;
      if (!destination || destination.purge_initiated_at) continue;
      // The first prefix whose setter may read the secret makes the association; the others that may read it are listed on it too.
      const allowed: Array<Row<PrefixAssociation>> = [];
      for (const row of rows) {
        if (await this.mayRead(row.value.policies, mount, path)) allowed.push(row);
        else if (!(await this.deps.records.skippedBy(row.value, path))) {
          change.markSkipped(row.value, path);
          row.value.skipped++;
        }
      }
      if (allowed.length === 0) continue;
      const outcome = await this.associate(change, destination, mount, path, allowed[0]!.value, allowed.slice(1).map((r) => r.value.prefix));
      if (outcome === 'added') for (const row of allowed) row.value.brought_in++;
    }
  }

  /** Saves the progress `fanOut` counted, in the fan-out's commit. */
  saveProgress(change: SyncChange, progress: Map<string, Row<PrefixAssociation>>): void {
    for (const row of progress.values()) change.savePrefix(row.value, row.revision);
  }

  // ---- one secret -----------------------------------------------------------------------------

  /**
   * Associates one secret through prefix `p` in `change`: an association of the destination
   * that exists already gets the prefix added (nothing in AWS changes); a new one is made when
   * the setter's policies let it read the secret, its names claimed — a name another association
   * syncs makes that target a conflict, never written — and its sync queued.
   */
  private async associate(change: SyncChange, dest: Destination, mount: MountEntry, path: string, p: PrefixAssociation, also: string[] = []): Promise<Outcome> {
    const existing = await this.deps.records.association(dest.type, dest.name, mount.accessor, path);
    // One being removed is left to finish; the next write of the secret brings it in again.
    if (existing && (existing.value.removing || existing.value.prefixes?.includes(p.prefix))) return 'covered';
    // Checked for an existing association too: the prefix would keep it synced once the rest lets go.
    if (!(await this.mayRead(p.policies, mount, path))) {
      // Met again (a later write, the step after a fan-out): counted once.
      if (await this.deps.records.skippedBy(p, path)) return 'covered';
      change.markSkipped(p, path);
      return 'skipped';
    }
    if (existing) {
      change.saveAssociation({ ...existing.value, prefixes: [...(existing.value.prefixes ?? []), p.prefix] }, existing.revision);
      return 'covered';
    }
    const draft = (await this.draft(change, dest, mount, path, p.prefix))?.a;
    if (!draft) return 'gone';
    draft.prefixes!.push(...also);
    change.saveAssociation(draft, 0).index(draft).enqueueSync(draft, 'set');
    return 'added';
  }

  /** Whether the policies (by name, as they stand now) grant read on the secret's data path. */
  private async mayRead(policies: string[], mount: MountEntry, path: string): Promise<boolean> {
    const caps = await this.deps.core.authorizer.capabilitiesOfPolicies(policies, `${mount.path}data/${path}`);
    return caps.has('read') && !caps.has('deny');
  }

  /**
   * A new prefix-derived association of a secret, its names claimed in `change`; a name another
   * association syncs (or one the template cannot make) is a target in error, never written.
   * Undefined when the secret is gone.
   */
  private async draft(
    change: SyncChange,
    dest: Destination,
    mount: MountEntry,
    path: string,
    prefix: string,
  ): Promise<{ a: Association; conflicts: PlanStep[] } | undefined> {
    const state = await this.deps.source.read(mount.accessor, path);
    if (!state) return undefined;
    const at = this.now();
    let a: Association;
    try {
      a = draftAssociation(dest, mount, path, state, undefined, at);
    } catch (err) {
      if (!(err instanceof FerryError)) throw err;
      a = {
        dest_type: 'aws-sm',
        dest_name: dest.name,
        accessor: mount.accessor,
        mount: mount.path,
        secret_name: path,
        granularity: dest.options.granularity_level,
        template: effectiveTemplate(dest.options),
        created_at: at,
        targets: { '': { sub_key: '', name: 'invalid:', status: 'CLIENT_SIDE_ERROR', last_error: err.message, updated_at: at } },
      };
    }
    a.explicit = false;
    a.prefixes = [prefix];
    const conflicts: PlanStep[] = [];
    for (;;) {
      const taken = await this.deps.claims.claim(change, dest, claimantOf(a), currentNames(a));
      if (!taken) return { a, conflicts };
      const { other } = taken.collision;
      conflicts.push({ action: 'conflict', name: taken.name, owner: `${other.dest} (${other.accessor}/${other.secret_name})`, reason: 'another association syncs this name' });
      for (const [key, t] of Object.entries(a.targets)) {
        if (t.name === taken.name) a.targets[key] = { sub_key: t.sub_key, name: `invalid:${t.sub_key}`, status: 'CLIENT_SIDE_ERROR', last_error: conflictText(t.name, taken.collision), updated_at: at };
      }
    }
  }
}

/** Whether `prefix` is all that keeps `a`: no explicit association, no other prefix. */
function onlyThisPrefix(a: Association, prefix: string): boolean {
  return a.explicit === false && (a.prefixes ?? []).every((x) => x === prefix);
}
