import type { Logger } from 'pino';
import { RevisionConflict } from '../store/store.js';
import { DEFAULT_RECONCILE_INTERVAL, type Association, type Destination, type TargetState } from './model.js';
import type { AdaptiveBudget } from './pacing.js';
import type { AdapterRegistry, DestinationAdapter, ExistingSecret, ListedSecret, MissingPermission } from './port.js';
import type { SyncRecords } from './records.js';
import type { SecretSource } from './source.js';

/**
 * Drift repair: every `reconcile_interval` (sys/sync/config, a Ferry extension) each
 * destination's synced secrets are compared with what Ferry last wrote, cheaply. `ListSecrets`
 * pages carry each secret's AWSCURRENT version id and its tags, so a secret whose current
 * version is not the one Ferry's write made (its ClientRequestToken), whose tags Ferry set
 * differ, or that is missing or scheduled for deletion is a suspect — without reading any
 * value. Listings are eventually consistent on AWS, so each suspect is confirmed with
 * `DescribeSecret` first; only a confirmed change is marked on its association target and
 * queued, and the ordinary delivery undoes it (a deleted secret is restored or created again).
 *
 * Without `ListSecrets` or `DescribeSecret` (the guide's minimal policy grants neither) drift
 * repair reports itself off for the destination, naming the permission, in the destination's
 * `missing_permissions` and its status summary.
 */

/** What a destination's status summary shows of drift repair. */
export interface DriftView {
  /** `on`, `off` (reconcile_interval 0), or `unavailable` (a permission is missing). */
  state: 'on' | 'off' | 'unavailable';
  interval_seconds: number;
  /** The permission AWS denied, when unavailable. */
  missing_permission?: string;
  last_pass_at?: number;
  next_pass_at?: number;
  /** Of the last pass: secrets compared, suspects the listing showed, and changes confirmed and queued. */
  last_pass?: { checked: number; suspects: number; confirmed: number };
  /** Changes confirmed and queued since the process started. */
  confirmed_total: number;
}

interface PassState {
  /** When this process first saw the destination: the first pass is one interval later. */
  firstSeen: number;
  /** When the last pass started. */
  startedAt?: number;
  lastAt?: number;
  last?: { checked: number; suspects: number; confirmed: number };
  missing?: string;
  confirmedTotal: number;
  running?: Promise<void>;
}

export interface DriftRepairDeps {
  records: SyncRecords;
  /** The KV secrets: a target whose secret changed since its last delivery is not judged (a delivery is due or under way). */
  source: SecretSource;
  adapters: AdapterRegistry;
  budget: AdaptiveBudget;
  clock: () => number;
  log: Pick<Logger, 'warn' | 'info'>;
}

type DriftKind = NonNullable<TargetState['drift']>;

/** What a destination's `missing_permissions` says when drift repair lacks a permission. */
const DRIFT_OFF = 'drift repair is off: out-of-band changes and deletes in AWS are not noticed';

/** Only the tags Ferry applied are compared (its own and the custom ones): others' tags on a synced secret are theirs. */
function tagsDiffer(applied: Record<string, string> | undefined, actual: Record<string, string>): boolean {
  return Object.entries(applied ?? {}).some(([k, v]) => actual[k] !== v);
}

/** Targets a pass compares: synced, owned, with the version Ferry's last write made known. */
function candidates(a: Association): Array<[string, TargetState]> {
  if (a.removing) return [];
  return Object.entries(a.targets).filter(([k, t]) => !k.startsWith('retired:') && t.status === 'SYNCED' && t.aws_version_id !== undefined && !t.drift);
}

export class DriftRepair {
  private readonly passes = new Map<string, PassState>();

  constructor(private readonly deps: DriftRepairDeps) {}

  /** Starts the due passes and answers when they are done; a destination's pass never overlaps itself. */
  async runDue(): Promise<void> {
    const { records, clock } = this.deps;
    const interval = (await records.config()).value.reconcile_interval ?? DEFAULT_RECONCILE_INTERVAL;
    const now = clock();
    const running: Array<Promise<void>> = [];
    const names = await records.destinationNames('aws-sm');
    // A deleted destination's state goes (a destination re-created under its name starts afresh,
    // and a server whose destinations come and go does not keep them all).
    const present = new Set(names.map((name) => `aws-sm/${name}`));
    for (const [ref, pass] of this.passes) if (!present.has(ref) && !pass.running) this.passes.delete(ref);
    for (const name of names) {
      const ref = `aws-sm/${name}`;
      let pass = this.passes.get(ref);
      if (!pass) {
        pass = { firstSeen: now, confirmedTotal: 0 };
        this.passes.set(ref, pass);
      }
      if (pass.running) {
        running.push(pass.running);
        continue;
      }
      // Due one interval after the last pass started (or after the destination was first seen),
      // so that a changed interval applies at once; not while its AWS is being probed.
      if (interval === 0 || now < nextPassAt(pass, interval) || this.deps.budget.impaired(ref)) continue;
      pass.startedAt = now;
      const p = this.pass(name, pass).finally(() => {
        pass.running = undefined;
      });
      pass.running = p;
      running.push(p);
    }
    await Promise.all(running);
  }

  /** The status summary's view of one destination's drift repair. */
  async view(type: string, name: string): Promise<DriftView> {
    const interval = (await this.deps.records.config()).value.reconcile_interval ?? DEFAULT_RECONCILE_INTERVAL;
    const pass = this.passes.get(`${type}/${name}`);
    const state = interval === 0 ? 'off' : pass?.missing ? 'unavailable' : 'on';
    return {
      state,
      interval_seconds: interval,
      ...(pass?.missing ? { missing_permission: pass.missing } : {}),
      ...(pass?.lastAt !== undefined ? { last_pass_at: pass.lastAt } : {}),
      ...(interval > 0 && pass ? { next_pass_at: nextPassAt(pass, interval) } : {}),
      ...(pass?.last ? { last_pass: pass.last } : {}),
      confirmed_total: pass?.confirmedTotal ?? 0,
    };
  }

  private async pass(name: string, pass: PassState): Promise<void> {
    const { records } = this.deps;
    const destination = (await records.destination('aws-sm', name))?.value;
    if (!destination || destination.purge_initiated_at) return;
    const adapter = this.deps.adapters.adapterFor(destination);
    const associations = (await records.associationsOf('aws-sm', name)).filter((a) => candidates(a).length > 0);
    const listed = associations.length > 0 ? await this.listAll(adapter) : new Map<string, ListedSecret>();
    if (!(listed instanceof Map)) return this.reportMissing(destination, pass, listed);
    let checked = 0;
    let suspects = 0;
    let confirmed = 0;
    for (const a of associations) {
      for (const [subKey, t] of candidates(a)) {
        checked++;
        const seen = listed.get(t.name);
        const suspect = !seen || seen.scheduledForDeletion || seen.currentVersionId !== t.aws_version_id || tagsDiffer(t.applied_tags, seen.tags);
        if (!suspect) continue;
        suspects++;
        const described = await adapter.describe(t.name);
        if (described !== undefined && 'action' in described) return this.reportMissing(destination, pass, described);
        const kind = confirm(t, described);
        if (kind && (await this.mark(a, subKey, t, kind, described))) confirmed++;
      }
    }
    pass.lastAt = this.deps.clock();
    pass.last = { checked, suspects, confirmed };
    pass.confirmedTotal += confirmed;
    // The permission that was missing worked in this pass (DescribeSecret only if it was called).
    if (pass.missing === 'secretsmanager:ListSecrets' || (pass.missing !== undefined && suspects > 0)) {
      const action = pass.missing;
      delete pass.missing;
      await records.updateMissingPermissions(destination.type, destination.name, (current) => {
        const rest = (current[action] ?? '').replace(DRIFT_OFF, '').replace(/; $/, '');
        if (rest) current[action] = rest;
        else delete current[action];
        return current;
      });
    }
  }

  /** Every page of the listing, by name; or the permission AWS denied. */
  private async listAll(adapter: DestinationAdapter): Promise<Map<string, ListedSecret> | MissingPermission> {
    const out = new Map<string, ListedSecret>();
    let token: string | undefined;
    do {
      const page = await adapter.list(token);
      if ('action' in page) return page;
      for (const s of page.secrets) out.set(s.name, s);
      token = page.nextToken;
    } while (token);
    return out;
  }

  private async reportMissing(destination: Destination, pass: PassState, missing: MissingPermission): Promise<void> {
    if (pass.missing !== missing.action) {
      this.deps.log.warn(
        { destination: `${destination.type}/${destination.name}`, permission: missing.action },
        'sync drift repair is off for this destination: AWS denied a permission it needs',
      );
    }
    pass.missing = missing.action;
    pass.lastAt = this.deps.clock();
    // Beside what else the action's absence means (DescribeSecret: adoption), not instead of it.
    await this.deps.records.updateMissingPermissions(destination.type, destination.name, (current) => {
      const other = current[missing.action];
      current[missing.action] = other && !other.includes(DRIFT_OFF) ? `${other}; ${DRIFT_OFF}` : (other ?? DRIFT_OFF);
      return current;
    });
  }

  /**
   * Marks a confirmed change on its target and queues the association, in one commit that
   * holds only if the association did not move since it was read (a write of Ferry's own
   * meanwhile means the next pass looks again).
   *
   * A target whose secret has changed since its last delivery is left to that delivery, due or
   * under way: what DescribeSecret saw may be Ferry's own write, made in AWS and not recorded
   * yet (marking it would make the delivery's outcome merge under a drift mark that nothing
   * clears, and after a crash in that window re-send the write under a new request token, a
   * second AWS version). The secret is read after DescribeSecret answered and the record after
   * that, so such a write shows either in the record or as a KV version the record lacks.
   */
  private async mark(a: Association, subKey: string, seen: TargetState, kind: DriftKind, described: ExistingSecret | undefined): Promise<boolean> {
    const { records } = this.deps;
    const state = await this.deps.source.read(a.accessor, a.secret_name);
    const row = await records.association(a.dest_type, a.dest_name, a.accessor, a.secret_name);
    const t = row?.value.targets[subKey];
    if (!row || !t || t.status !== 'SYNCED' || t.aws_version_id !== seen.aws_version_id || t.drift) return false;
    if (!state?.data || t.incarnation !== state.incarnation || t.version !== state.version) return false;
    t.drift = kind;
    if (kind === 'tags') {
      // What AWS holds now of Ferry's tags, so that the delivery's TagResource puts back exactly those that moved.
      const actual = described?.tags ?? {};
      t.applied_tags = Object.fromEntries(Object.keys(t.applied_tags ?? {}).filter((k) => k in actual).map((k) => [k, actual[k]!]));
      delete t.config_digest;
    } else {
      delete t.value_digest;
    }
    try {
      await records.change().saveAssociation(row.value, row.revision).enqueueSync(row.value, 'drift').commit();
    } catch (err) {
      if (err instanceof RevisionConflict) return false;
      throw err;
    }
    this.deps.log.info(
      { destination: `${a.dest_type}/${a.dest_name}`, mount: a.mount, secret_path: a.secret_name, external_name: t.name, drift: kind },
      'sync drift found: an out-of-band change in AWS is being undone',
    );
    return true;
  }
}

const nextPassAt = (pass: PassState, intervalSeconds: number) => (pass.startedAt ?? pass.firstSeen) + intervalSeconds * 1000;

/** What DescribeSecret confirms of a suspect: the kind of change, or undefined when the listing was stale. */
function confirm(t: TargetState, described: ExistingSecret | undefined): DriftKind | undefined {
  if (described === undefined || described.scheduledForDeletion) return 'deleted';
  if (described.currentVersionId !== t.aws_version_id) return 'value';
  if (tagsDiffer(t.applied_tags, described.tags)) return 'tags';
  return undefined;
}
