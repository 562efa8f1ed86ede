/**
 * The rules of the `sys/sync` API (over 400 lines on purpose: every rule a request to
 * destinations, associations and the configuration must pass, with the atomic change each one
 * commits, reads best in one place; the storage layout is records.ts's, delivery reconcile.ts's).
 */
import type { SyncDeps } from './deps.js';
import type { MountEntry, TokenEntry } from '../kernel/entries.js';
import { withRetry } from '../store/store.js';
import { isKvV2, normaliseMountPath } from '../sys/mount-table.js';
import { applyAwsSmInput, checkDestinationType, type AwsSmInput } from './destinations.js';
import { syncErrors } from './errors.js';
import { DEFAULT_SYNC_CONFIG, MAX_RECONCILE_INTERVAL, MAX_WRITE_BUDGET, nowIso, type Association, type Destination, type SyncConfig } from './model.js';
import { endpointAllowed, hasEndpointOverride, operatorChanges } from './operator-fields.js';
import { currentNames, draftAssociation, markedRemoving } from './association-draft.js';
import { claimantOf, type NameClaims, type NameCollision } from './name-claims.js';
import type { Planner, PlanStep } from './plans.js';
import type { AdapterRegistry } from './port.js';
import type { SyncRecords } from './records.js';
import type { SecretSource } from './source.js';

/**
 * How long a destination delete waits for association removals already under way: long enough
 * for an AWS delete or two, short enough for an HTTP request.
 */
const REMOVAL_WAIT_MS = 5_000;

/** A removal that failed (final or reported error): the worker will not finish it on its own soon. */
const removalFailed = (a: Association): boolean => Object.values(a.targets).some((t) => t.status.endsWith('_ERROR'));

/** What the sync service needs from the server and from other features, wired in the composition root. */
export interface SyncServiceDeps {
  core: Pick<SyncDeps, 'mounts' | 'authorizer' | 'clock'>;
  records: SyncRecords;
  /** Which associations sync to each AWS name, for refusing collisions when an association is set. */
  claims: NameClaims;
  source: SecretSource;
  /** The identity-token signing keys, for `identity_token_key` and `identity_token_ttl` validation. */
  identityKeys?: {
    /** Whether a named key exists (`default` always does). */
    exists(name: string): Promise<boolean>;
    /** How long a key stays published after rotation, in seconds; undefined for no such key. */
    verificationTtl(name: string): Promise<number | undefined>;
  };
  /** The server configuration's `sync.allowed_endpoint_prefixes`; empty: any endpoint a sudo holder sets. */
  allowedEndpointPrefixes?: readonly string[];
  /** The AWS account of a stored destination, and of one being written (`AdapterRegistry`). */
  accounts: Pick<AdapterRegistry, 'accountOf' | 'accountOfCandidate'>;
  /** What a change would do in AWS, for `dry_run=true` (`plans.ts`). */
  planner: Planner;
}

/** Options of `associations/set` beyond Vault's fields (Ferry extensions). */
export interface SetOptions {
  /** Take over a pre-existing AWS secret that is no other Ferry destination's (needs sudo on the destination's path). */
  adopt?: boolean;
  /** Answer the plan and change nothing. */
  dryRun?: boolean;
}

/** What a destination's AWS account follows: its role (the ARN names it), else its static keys, else the server's identity (''). */
function accountBasis(d: Destination): string {
  const c = d.connection;
  if (c.role_arn !== '') return `role ${c.role_arn}`;
  return c.access_key_id !== '' ? `keys ${c.access_key_id} ${c.secret_access_key}` : '';
}

/** Who makes a write: the token and the path its capabilities are checked on (the destination's). */
export interface Actor {
  token: TokenEntry | null;
  path: string;
}

/**
 * Destinations and associations: the rules of the `sys/sync` API. Every change that must
 * reach AWS writes its outbox operation in the same atomic commit as the change itself.
 */
export class SyncService {
  private readonly records: SyncRecords;

  constructor(private readonly deps: SyncServiceDeps) {
    this.records = deps.records;
  }

  private now(): string {
    return nowIso(this.deps.core.clock());
  }

  /** The configuration, with Ferry's `reconcile_interval` (seconds) filled in. */
  async config(): Promise<Required<SyncConfig>> {
    return { ...DEFAULT_SYNC_CONFIG, ...(await this.records.config()).value };
  }

  /** Applies a change to the configuration; null resets it to the defaults. */
  async updateConfig(change: Partial<SyncConfig> | null): Promise<Required<SyncConfig>> {
    const interval = change?.reconcile_interval;
    if (interval !== undefined && interval !== 0 && !(Number.isInteger(interval) && interval >= 1 && interval <= MAX_RECONCILE_INTERVAL)) {
      throw syncErrors.reconcileInterval();
    }
    return withRetry(async () => {
      const current = await this.records.config();
      const next = change === null ? { ...DEFAULT_SYNC_CONFIG } : { ...DEFAULT_SYNC_CONFIG, ...current.value, ...change };
      if (next.queue_capacity < 1) throw syncErrors.queueCapacity();
      if (!(next.write_budget_per_second >= 1 && next.write_budget_per_second <= MAX_WRITE_BUDGET)) throw syncErrors.writeBudget(MAX_WRITE_BUDGET);
      await this.records.change().saveConfig(next, current.revision).commit();
      return next;
    });
  }

  // ---- destinations -------------------------------------------------------------------

  async getDestination(type: string, name: string): Promise<Destination | undefined> {
    checkDestinationType(type);
    return (await this.records.destination(type, name))?.value;
  }

  async listDestinations(type?: string): Promise<Record<string, string[]>> {
    const types = type ? [type] : ['aws-sm'];
    if (type) checkDestinationType(type);
    const out: Record<string, string[]> = {};
    for (const t of types) {
      const names = await this.records.destinationNames(t);
      if (names.length > 0) out[t] = names.sort();
    }
    return out;
  }

  /**
   * Creates or updates a destination. The fields that decide where credentials and values go
   * (`operator-fields.ts`) need `sudo` on the destination's path besides the ACL grant the
   * pipeline checked: `actor` is whose write it is (none: the server's own, trusted).
   */
  async writeDestination(
    type: string,
    name: string,
    input: AwsSmInput,
    explicitNulls: string[],
    mode: 'write' | 'patch',
    actor?: Actor,
  ): Promise<Destination> {
    checkDestinationType(type);
    if (!/^[A-Za-z0-9_.-]{1,128}$/.test(name)) throw syncErrors.invalidDestinationName(name);
    return withRetry(async () => {
      const row = await this.records.destination(type, name);
      const existing = row?.value;
      if (!existing && mode === 'patch') throw syncErrors.destinationNotFound(type, name);
      const next = applyAwsSmInput(existing, name, input, explicitNulls, mode, this.now());
      const sudo = await this.checkOperatorFields(existing, next, actor);
      if (existing && !sudo) await this.checkSameAccount(existing, next, actor!.path);
      await this.checkIdentityKey(existing, next);
      const change = this.records.change().saveDestination(next, row?.revision ?? 0);
      if (existing) {
        // A changed destination re-queues its failed associations, and all of them when
        // something AWS-side (credentials, tags, KMS key, replicas) changed.
        const awsSideChanged =
          JSON.stringify(existing.connection) !== JSON.stringify(next.connection) ||
          JSON.stringify(existing.options.custom_tags) !== JSON.stringify(next.options.custom_tags);
        for (const a of await this.records.associationsOf(type, name)) {
          const failed = Object.values(a.targets).some((t) => t.status.endsWith('_ERROR'));
          if (awsSideChanged || failed) change.enqueueSync(a, 'destination-change');
        }
      }
      await change.commit();
      return next;
    });
  }

  /**
   * Refuses, with a 403 naming the capability, a change of the operator's fields by a token
   * without `sudo` on the destination's path; refuses an endpoint outside the configuration's
   * allow-list; and marks the endpoints of a destination a sudo holder wrote as confirmed.
   */
  private async checkOperatorFields(existing: Destination | undefined, next: Destination, actor: Actor | undefined): Promise<boolean> {
    const changes = operatorChanges(existing, next);
    // Asked lazily: most writes need no sudo, nor the account check after this one.
    let sudo: boolean | undefined;
    const hasSudo = async () => (sudo ??= await this.hasSudo(actor));
    if (changes.length === 0 && !hasEndpointOverride(next)) {
      delete next.endpoints_confirmed;
      return (existing !== undefined && accountBasis(existing) !== accountBasis(next)) ? hasSudo() : true;
    }
    await hasSudo();
    if (changes.length > 0 && !sudo) throw syncErrors.sudoRequired(changes, actor!.path);
    const prefixes = this.deps.allowedEndpointPrefixes ?? [];
    for (const field of ['endpoint_url', 'sts_endpoint_url'] as const) {
      const url = next.connection[field];
      if (url !== '' && url !== existing?.connection[field] && !endpointAllowed(url, prefixes)) throw syncErrors.endpointNotAllowed(field, url, prefixes);
    }
    if (!hasEndpointOverride(next)) delete next.endpoints_confirmed;
    else if (sudo) next.endpoints_confirmed = true;
    return sudo!;
  }

  /** Whether `actor` holds `sudo` on the destination's path (no actor: the server's own write, trusted). */
  private async hasSudo(actor: Actor | undefined): Promise<boolean> {
    if (!actor?.token) return true;
    const caps = await this.deps.core.authorizer.capabilities(actor.token, actor.path);
    return caps.has('sudo') && !caps.has('deny');
  }

  /**
   * For a writer without sudo: new credentials (keys, or a role instead of keys, or keys instead
   * of a role) must leave the destination in the AWS account it had, or the next sync would write
   * every associated secret's value into another account (the writer's own, say). Both accounts
   * are learnt (a role's from its ARN, keys' by sts:GetCallerIdentity, which needs no IAM
   * permission, through the destination's network rules); one that cannot be learnt refuses the
   * change. A same-account rotation records the keys' account, so that the next rotation can be
   * checked even once these keys are deactivated. Nothing about the credentials is said.
   */
  private async checkSameAccount(existing: Destination, next: Destination, path: string): Promise<void> {
    if (accountBasis(existing) === accountBasis(next)) return;
    const [before, after] = await Promise.all([this.deps.accounts.accountOf(existing), this.deps.accounts.accountOfCandidate(next)]);
    if (before === undefined || after === undefined) throw syncErrors.accountUnverified(path);
    if (before !== after) throw syncErrors.sudoRequired(['moving the destination to another AWS account'], path);
    if (next.connection.role_arn === '' && next.connection.access_key_id !== '') next.keys_account = after;
  }

  /** The signing key must exist, and a token may not outlive its key's publication. */
  private async checkIdentityKey(existing: Destination | undefined, next: Destination): Promise<void> {
    const keys = this.deps.identityKeys;
    const c = next.connection;
    if (!keys) return;
    if (c.identity_token_key && !(await keys.exists(c.identity_token_key))) throw syncErrors.identityKeyMissing(c.identity_token_key);
    const before = existing?.connection;
    const changed =
      !before ||
      before.identity_token_ttl !== c.identity_token_ttl ||
      before.identity_token_key !== c.identity_token_key ||
      before.identity_token_audience !== c.identity_token_audience;
    if (c.identity_token_audience === '' || !changed) return;
    const key = c.identity_token_key || 'default';
    const verification = await keys.verificationTtl(key);
    if (verification !== undefined && c.identity_token_ttl > verification) throw syncErrors.tokenTtlOverVerification(c.identity_token_ttl, key, verification);
  }

  /**
   * Deletes a destination. With associations it needs `purge` (unsync everything, then
   * delete — asynchronously, the destination stays readable meanwhile) or `force_delete`
   * (forget them, leaving the synced secrets in AWS). Associations already being removed (an
   * `associations/remove` just answered: `terraform destroy` removes the association, then
   * deletes the destination) are waited for, a few seconds at most, woken by each removal.
   */
  async deleteDestination(type: string, name: string, opts: { purge: boolean; force: boolean }): Promise<void> {
    checkDestinationType(type);
    const deadline = performance.now() + REMOVAL_WAIT_MS;
    for (;;) {
      // Read before the associations are: a removal committed in between still wakes the wait.
      const mark = this.records.removalMark;
      const mayWait = performance.now() < deadline;
      const waiting = await withRetry(() => this.deleteDestinationOnce(type, name, opts, mayWait));
      if (!waiting) return;
      await this.records.associationRemovedSince(mark, deadline - performance.now());
    }
  }

  /** One attempt; true when it found only removals under way to wait for (and `mayWait`). */
  private async deleteDestinationOnce(type: string, name: string, opts: { purge: boolean; force: boolean }, mayWait: boolean): Promise<boolean> {
    const row = await this.records.destination(type, name);
    if (!row) return false;
    const dest = row.value;
    const associations = await this.records.associationsOf(type, name);
    const change = this.records.change();
    // Its prefix associations go at once, whatever follows: no secret is brought in any more.
    for (const p of await this.records.prefixesOf(type, name)) change.deletePrefix(p.value, p.revision).unindexPrefix(p.value);
    if (associations.length === 0 || opts.force) {
      // Its ownership records go too: what it synced stays in AWS, no longer Ferry's.
      change.deleteDestination(type, name, row.revision).deleteAssociationsOf(type, name).deleteOwnedOf(type, name);
      for (const a of associations) {
        change.unindex(a);
        await this.deps.claims.release(change, a, dest.connection.region);
      }
    } else if (opts.purge) {
      // A repeated purge re-queues what is still being removed (e.g. after fixing credentials).
      dest.purge_initiated_at ??= this.now();
      delete dest.purge_error;
      change.saveDestination(dest, row.revision);
      for (const a of associations) change.saveAssociation(a.removing ? a : this.markRemoving(a)).enqueueSync(a, 'purge');
    } else if (mayWait && associations.every((a) => a.removing && !removalFailed(a))) {
      return true;
    } else {
      throw syncErrors.destinationHasAssociations(type, name, associations.length);
    }
    await change.commit();
    return false;
  }

  /**
   * The plan of a destination delete (`dry_run=true`): with `purge`, a delete of every AWS
   * secret Ferry owns for its associations; with `force_delete` (or no associations), nothing in
   * AWS. Refused as the delete itself would be. Changes nothing.
   */
  async planDeleteDestination(type: string, name: string, opts: { purge: boolean; force: boolean }): Promise<PlanStep[]> {
    checkDestinationType(type);
    const dest = await this.getDestination(type, name);
    if (!dest) return [];
    const associations = await this.records.associationsOf(type, name);
    if (associations.length === 0 || opts.force) return [];
    if (!opts.purge) throw syncErrors.destinationHasAssociations(type, name, associations.length);
    const plan: PlanStep[] = [];
    for (const a of associations) plan.push(...(await this.deps.planner.forRemoval(dest, a)));
    return plan;
  }

  // ---- associations -----------------------------------------------------------------

  /**
   * Associations as the API shows them: a target recorded as SYNCED whose secret has changed
   * since (delivery paused, waiting out the minimum interval, throttled) shows PENDING.
   */
  async associationsForDisplay(type: string, name: string): Promise<Association[]> {
    const out: Association[] = [];
    for (const a of await this.records.associationsOf(type, name)) out.push(await this.withDisplayStatus(a));
    return out;
  }

  async withDisplayStatus(a: Association): Promise<Association> {
    if (a.removing) return a;
    const state = await this.deps.source.read(a.accessor, a.secret_name);
    const behind = (t: Association['targets'][string]) =>
      t.status === 'SYNCED' && !(state?.data != null && t.incarnation === state.incarnation && t.version === state.version);
    // Copied only when a status is shown otherwise: a listing of 10,000 synced associations
    // (each associations/set answers one) copied every record for nothing.
    if (!Object.values(a.targets).some(behind)) return a;
    const view = structuredClone(a);
    for (const t of Object.values(view.targets)) if (behind(t)) t.status = 'PENDING';
    return view;
  }

  /** The associations of one secret (any destination), by mount accessor. */
  async associationsOfSecret(accessor: string, secret: string): Promise<Association[]> {
    return this.records.associationsOfSecret(accessor, secret);
  }

  /** Every association, grouped by secret, for `LIST sys/sync/associations`. */
  async allAssociationsBySecret(): Promise<Array<{ accessor: string; secret: string; destinations: string[] }>> {
    return this.records.associatedSecrets();
  }

  /** Resolves the `mount` parameter of an association: an exact KV v2 mount path. */
  resolveKvMount(mount: string): MountEntry {
    if (!mount) throw syncErrors.missingField('mount');
    const path = normaliseMountPath(mount);
    const m = this.deps.core.mounts.get(path);
    if (!m) throw syncErrors.mountNotFound(path);
    if (m.type !== 'kv') throw syncErrors.mountNotKv(path, m.type);
    if (!isKvV2(m)) throw syncErrors.mountKvV1(path);
    return m;
  }

  private markRemoving(a: Association): Association {
    return markedRemoving(a, this.now());
  }

  /**
   * `associations/set`: creates the association (or refreshes an existing one, re-applying
   * the destination's current granularity and template) and queues its sync. An association
   * that prefixes already cover becomes explicit too. `adopt` (sudo on the destination's path)
   * lets the worker take over a pre-existing AWS secret; `dryRun` answers the plan instead.
   */
  async setAssociation(
    type: string,
    name: string,
    mountParam: string,
    secretName: string,
    token: TokenEntry | null,
    opts: SetOptions = {},
  ): Promise<PlanStep[] | undefined> {
    checkDestinationType(type);
    const mount = this.resolveKvMount(mountParam);
    const secret = secretName;
    if (!secret) throw syncErrors.missingField('secret_name');
    if (secret.endsWith('/') || secret.startsWith('/') || secret.split('/').some((s) => s === '')) {
      throw syncErrors.invalidSecretName(secret);
    }
    if (token) {
      const caps = await this.deps.core.authorizer.capabilities(token, `${mount.path}data/${secret}`);
      if (caps.has('deny') || !caps.has('read')) throw syncErrors.secretReadDenied(secret, mount.path.replace(/\/$/, ''));
    }
    const destinationPath = `sys/sync/destinations/${type}/${name}`;
    if (opts.adopt && !(await this.hasSudo({ token, path: destinationPath }))) {
      throw syncErrors.sudoRequired(['adopt=true (taking over a pre-existing AWS secret)'], destinationPath);
    }
    return withRetry(async () => {
      const destRow = await this.records.destination(type, name);
      if (!destRow) throw syncErrors.destinationNotFound(type, name);
      const dest = destRow.value;
      if (dest.purge_initiated_at) throw syncErrors.destinationPurging(type, name);
      const state = await this.deps.source.read(mount.accessor, secret);
      if (!state) throw syncErrors.secretNotFound(secret, mount.path);

      const row = await this.records.association(type, name, mount.accessor, secret);
      const previous = row?.value;
      const association = draftAssociation(dest, mount, secret, state, previous, this.now());
      delete association.explicit;
      if (opts.adopt) association.adopt = true;
      const change = this.records.change();
      // The names it syncs to are claimed in the same commit; a name another association syncs where this one would is refused.
      const taken = await this.deps.claims.claim(change, dest, claimantOf(association), currentNames(association));
      if (taken) throw collisionError(taken.name, taken.collision);
      if (opts.dryRun) return this.deps.planner.forSet(dest, association, previous, opts.adopt === true);
      await change
        .saveAssociation(association, row?.revision ?? 0)
        .index(association)
        .enqueueSync(association, 'set')
        .checkDestination(type, name, destRow.revision)
        .commit();
      return undefined;
    });
  }

  /**
   * `associations/retry` (a Ferry extension): re-queues the destination's failed associations at
   * once — all of them, or the one `mount` and `secret_name` name (failed or not) — with their
   * attempts reset. Answers how many were queued.
   */
  async retryAssociations(type: string, name: string, mountParam: string, secretName: string): Promise<number> {
    checkDestinationType(type);
    if (!(await this.getDestination(type, name))) throw syncErrors.destinationNotFound(type, name);
    if (Boolean(mountParam) !== Boolean(secretName)) throw syncErrors.missingField(mountParam ? 'secret_name' : 'mount');
    let accessor: string | undefined;
    if (mountParam) {
      const m = this.deps.core.mounts.get(normaliseMountPath(mountParam));
      if (!m) throw syncErrors.mountNotFound(normaliseMountPath(mountParam));
      accessor = m.accessor;
      if (!(await this.records.association(type, name, m.accessor, secretName))) {
        throw syncErrors.associationNotFound(m.path, secretName, type, name);
      }
    }
    return withRetry(async () => {
      const change = this.records.change();
      let queued = 0;
      const chosen =
        accessor !== undefined
          ? [await this.records.association(type, name, accessor, secretName)].filter((r) => r !== undefined)
          : await this.records.associationRowsOf(type, name);
      for (const row of chosen) {
        const a = row.value;
        const failed = Object.values(a.targets).filter((t) => t.status.endsWith('_ERROR') || t.last_error !== undefined);
        if (a.removing || (accessor === undefined && failed.length === 0)) continue;
        for (const t of failed) {
          t.attempts = 0;
          delete t.next_attempt_at;
        }
        change.saveAssociation(a, row.revision).enqueueSync(a, 'retry');
        queued++;
      }
      if (queued > 0) await change.commit();
      return queued;
    });
  }

  /**
   * `associations/remove`: marks the association for unsync; the worker deletes it once AWS is
   * clean. An association prefixes also cover stays (only its explicit mark goes); one that only
   * prefixes cover is refused with a 400 naming the prefix. `dryRun` answers the plan instead.
   */
  async removeAssociation(type: string, name: string, mountParam: string, secretName: string, opts: { dryRun?: boolean } = {}): Promise<PlanStep[] | undefined> {
    checkDestinationType(type);
    const dest = await this.getDestination(type, name);
    if (!dest) throw syncErrors.destinationNotFound(type, name);
    if (!mountParam) throw syncErrors.missingField('mount');
    if (!secretName) throw syncErrors.missingField('secret_name');
    const m = this.deps.core.mounts.get(normaliseMountPath(mountParam));
    if (!m) throw syncErrors.mountNotFound(normaliseMountPath(mountParam));
    return withRetry(async () => {
      const row = await this.records.association(type, name, m.accessor, secretName);
      if (!row || row.value.removing) return opts.dryRun ? [] : undefined;
      const a = row.value;
      if (a.prefixes && a.prefixes.length > 0) {
        if (a.explicit === false) throw syncErrors.coveredByPrefix(secretName, m.path, a.prefixes[0]!, `${type}/${name}`);
        if (opts.dryRun) return [];
        await this.records.change().saveAssociation({ ...a, explicit: false }, row.revision).commit();
        return undefined;
      }
      if (opts.dryRun) return this.deps.planner.forRemoval(dest, a);
      await this.records.change().saveAssociation(this.markRemoving(a), row.revision).enqueueSync(a, 'remove').commit();
      return undefined;
    });
  }

  /** Refuses to disable a KV mount that still has associations (a mount unmount guard). */
  async guardUnmount(mount: MountEntry): Promise<void> {
    const secrets = await this.records.associatedSecretsOfMount(mount.accessor);
    if (secrets.length > 0) throw syncErrors.mountHasAssociations(mount.path, secrets);
    const prefixes = await this.records.prefixesOfMount(mount.accessor);
    if (prefixes.length > 0) throw syncErrors.mountHasAssociations(mount.path, prefixes.map((p) => `${p.prefix || '(whole mount)'} → ${p.dest_type}/${p.dest_name}`));
  }
}

/** The 400 for a name another association already syncs, naming it. */
function collisionError(name: string, c: NameCollision) {
  return c.within === 'destination'
    ? syncErrors.nameClaimedInDestination(name, c.other)
    : syncErrors.nameClaimedElsewhere(name, c.other, c.account ?? '', c.region);
}
