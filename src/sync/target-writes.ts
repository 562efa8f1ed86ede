import { RevisionConflict } from '../store/store.js';
import { nowIso, type Association, type Destination, type OwnedSecret, type TargetState } from './model.js';
import { judgeByTags, ownershipErrors, type Claimant } from './ownership.js';
import {
  DeliveryError,
  configDigest,
  type CallReport,
  type DestinationAdapter,
  type ExternalSecretSpec,
  type KnownConfig,
  type MissingPermission,
  type WriteOutcome,
} from './port.js';
import type { Row, SyncRecords } from './records.js';

/** What Ferry's records say about one external name of a destination. */
export type Ownership =
  /** No record: Ferry never created a secret there (or deleted it since). */
  | { kind: 'none' }
  /** A CreateSecret was decided and perhaps sent; its request token proves the outcome. */
  | { kind: 'creating'; row: Row<OwnedSecret> }
  | { kind: 'owned'; row: Row<OwnedSecret>; arn: string }
  /** Created by another association of the same destination. */
  | { kind: 'elsewhere'; by: Claimant };

export interface TargetWritesDeps {
  records: SyncRecords;
  adapter: DestinationAdapter;
  destination: Destination;
  association: Association;
  /** This destination's owner tag value (`ownership.ts`). */
  ownerTag: string;
  clock: () => number;
  /**
   * Runs after each provider call that changed AWS and before anything records it: the test
   * hook that simulates a crash in exactly that window.
   */
  afterCall: () => Promise<void>;
}

/**
 * The steps that write or delete one association's external secrets under Ferry's ownership
 * rules: write only what Ferry has a record of creating; record a creation before sending it
 * (`creating`, with its request token) and after it (`owned`, with the ARN), so that a crash
 * between the two is recovered by replaying the same CreateSecret; treat a name taken by a
 * secret without a record as someone else's (its owner tag decides, when AWS lets Ferry read it).
 * Each record is committed on its own, at once, so that it never depends on the association
 * record (re-set, removed, renamed meanwhile). Missing optional permissions are collected for
 * the destination's report.
 */
export class TargetWrites {
  /** Optional permissions AWS denied in this delivery, by action. */
  readonly missing = new Map<string, string>();
  /** Optional permissions that worked in this delivery. */
  readonly granted = new Set<string>();
  /** Names of pre-existing secrets this delivery took over (`adopt=true`). */
  readonly adopted = new Set<string>();

  constructor(private readonly deps: TargetWritesDeps) {}

  private get dest() {
    return this.deps.destination;
  }

  async ownership(t: TargetState): Promise<Ownership> {
    const row = await this.deps.records.owned(this.dest.type, this.dest.name, t.name);
    if (!row) return { kind: 'none' };
    const o = row.value;
    const a = this.deps.association;
    if (o.accessor !== a.accessor || o.secret_name !== a.secret_name) {
      return { kind: 'elsewhere', by: { dest: `${this.dest.type}/${this.dest.name}`, accessor: o.accessor, secret_name: o.secret_name } };
    }
    return o.state === 'creating' ? { kind: 'creating', row } : { kind: 'owned', row, arn: o.arn ?? o.name };
  }

  /**
   * Makes AWS hold `spec` for `t` (only its configuration when `valueHeld`). Throws a
   * DeliveryError when it cannot: a final one when the name is not Ferry's.
   */
  async write(t: TargetState, spec: ExternalSecretSpec, known: KnownConfig, own: Ownership, valueHeld: boolean): Promise<WriteOutcome> {
    const { adapter } = this.deps;
    if (own.kind === 'elsewhere') throw ownershipErrors.claimedInDestination(t.name, own.by);
    if (own.kind === 'owned') {
      let result = valueHeld ? await adapter.reconfigure(own.arn, spec, known) : await adapter.update(own.arn, spec, known);
      if (result.kind === 'scheduled') {
        // Scheduled for deletion out of band: restore it, or (without RestoreSecret) delete it now and create it again.
        const restored = await adapter.restore(own.arn);
        if (restored === true) {
          this.granted.add('secretsmanager:RestoreSecret');
          result = await adapter.update(own.arn, spec, known);
        } else {
          this.noteMissing([restored]);
          this.note(await adapter.remove(own.arn, known.appliedReplicas ?? []));
          await this.deps.afterCall();
          result = { kind: 'gone' };
        }
      }
      if (result.kind === 'written') {
        await this.deps.afterCall();
        return this.note(result);
      }
      if (result.kind === 'scheduled') {
        throw new DeliveryError('transient', 'EXTERNAL_SERVICE_ERROR', 'SecretScheduled', `secret "${t.name}" is scheduled for deletion in AWS`);
      }
      // Gone: deleted out of band (or just now). Ferry's record goes, and the secret is created again.
      await this.commitDisown(t);
      return this.create(t, spec, undefined);
    }
    return this.create(t, spec, own.kind === 'creating' ? own.row.value : undefined);
  }

  /**
   * CreateSecret under a recorded intent. `intent` is the record a crashed or failed earlier
   * attempt left: its token is replayed, so AWS answers with the secret that attempt made.
   */
  private async create(t: TargetState, spec: ExternalSecretSpec, intent: OwnedSecret | undefined): Promise<WriteOutcome> {
    const { adapter } = this.deps;
    const recorded = intent ?? (await this.recordIntent(t, spec.requestToken));
    const result = await adapter.create({ ...spec, requestToken: recorded.request_token ?? spec.requestToken });
    if (result.kind === 'created') {
      await this.deps.afterCall();
      await this.commitOwned(t, recorded, result.arn, 'create');
      return this.note(result);
    }
    if (result.ours) {
      // The earlier attempt did create it, with another value (the secret changed since): write this one.
      const written = await adapter.update(result.arn ?? t.name, spec, assumeApplied(spec));
      if (written.kind !== 'written') {
        throw new DeliveryError('transient', 'EXTERNAL_SERVICE_ERROR', 'SecretGone', `secret "${t.name}" changed state while being recovered`);
      }
      await this.deps.afterCall();
      await this.commitOwned(t, recorded, written.arn, 'create');
      return this.note(written);
    }
    // Someone else's name: the intent was never carried out.
    await this.commitDisown(t);
    return this.adoptOwn(t, spec);
  }

  /**
   * A secret Ferry has no record of: written only if it carries this destination's owner tag —
   * or, when the association was set with `adopt=true` (by a sudo holder), if it carries no
   * Ferry owner tag at all (untagged, or only Vault's `hashicorp:vault`). Another destination's
   * owner tag is never overwritten, and without DescribeSecret nothing is taken over. The update
   * makes a new version, so the previous value stays in AWS as `AWSPREVIOUS`.
   */
  private async adoptOwn(t: TargetState, spec: ExternalSecretSpec): Promise<WriteOutcome> {
    const { adapter } = this.deps;
    const existing = await adapter.describe(t.name);
    if (existing === undefined) {
      throw new DeliveryError('transient', 'PENDING', 'NameBeingDeleted', `the secret "${t.name}" was there a moment ago and is gone now; retrying`);
    }
    if ('action' in existing) {
      this.noteMissing([existing]);
      throw ownershipErrors.notOurs(t.name, 'unreadable');
    }
    this.granted.add('secretsmanager:DescribeSecret');
    const verdict = judgeByTags(existing.tags, this.deps.ownerTag);
    if (verdict.kind === 'other') throw ownershipErrors.ownedElsewhere(t.name, verdict.owner);
    const adopting = verdict.kind === 'unowned';
    if (adopting && this.deps.association.adopt !== true) throw ownershipErrors.notOurs(t.name, 'untagged');
    const written = await adapter.update(existing.arn, spec, {
      appliedTags: existing.tags,
      appliedReplicas: existing.replicas,
      appliedKmsKeyId: existing.kmsKeyId,
    });
    if (written.kind !== 'written') {
      throw new DeliveryError('transient', 'PENDING', 'NameBeingDeleted', `the secret "${t.name}" is being deleted in AWS; retrying`);
    }
    await this.deps.afterCall();
    await this.commitOwned(t, undefined, written.arn, adopting ? 'adopt' : 'owner-tag');
    if (adopting) this.adopted.add(t.name);
    return this.note(written);
  }

  /**
   * Deletes `t`'s external secret if Ferry owns it (nothing otherwise), and its record. A
   * creation cut off before being recorded is first proven (or carried out) by replaying its
   * CreateSecret with the current value (`specFor`); without a value, only the owner tag can
   * prove it, and without DescribeSecret the secret, if there is one, is left in AWS.
   */
  async remove(t: TargetState, own: Ownership, known: KnownConfig, specFor: () => Promise<ExternalSecretSpec | undefined>): Promise<void> {
    const { adapter } = this.deps;
    if (own.kind === 'none' || own.kind === 'elsewhere') return;
    let arn: string | undefined;
    let replicas = known.appliedReplicas ?? [];
    if (own.kind === 'owned') {
      arn = own.arn;
    } else {
      const spec = await specFor();
      if (spec) {
        const created = await adapter.create({ ...spec, requestToken: own.row.value.request_token ?? spec.requestToken });
        if (created.kind === 'created') {
          await this.deps.afterCall();
          replicas = created.appliedReplicas;
          arn = created.arn;
        } else if (created.ours) {
          // Made by the cut-off attempt, with the replicas it asked for (one that is not there is ignored).
          replicas = Object.keys(spec.replicaRegions);
          arn = created.arn ?? t.name;
        }
      } else {
        // No value to prove it with: only the owner tag can tell.
        const existing = await adapter.describe(t.name);
        if (existing !== undefined && 'action' in existing) this.noteMissing([existing]);
        else if (existing !== undefined && judgeByTags(existing.tags, this.deps.ownerTag).kind === 'own') {
          arn = existing.arn;
          replicas = existing.replicas;
        }
      }
    }
    if (arn !== undefined) {
      this.note(await adapter.remove(arn, replicas));
      await this.deps.afterCall();
    }
    await this.commitDisown(t);
  }

  /** Records the intent to create `t` before the CreateSecret is sent; a concurrent claim of the name by another association wins. */
  private async recordIntent(t: TargetState, token: string): Promise<OwnedSecret> {
    const intent = this.record(t, { state: 'creating', via: 'create', request_token: token });
    try {
      await this.deps.records.change().saveOwned(this.dest.type, this.dest.name, intent, 0).commit();
    } catch (err) {
      if (!(err instanceof RevisionConflict)) throw err;
      const now = await this.ownership(t);
      if (now.kind === 'elsewhere') throw ownershipErrors.claimedInDestination(t.name, now.by);
      throw new DeliveryError('transient', 'PENDING', 'Busy', `the record of "${t.name}" changed meanwhile; retrying`);
    }
    return intent;
  }

  private async commitOwned(t: TargetState, intent: OwnedSecret | undefined, arn: string, via: OwnedSecret['via']): Promise<void> {
    const owned = this.record(t, { state: 'owned', via, arn, request_token: intent?.request_token });
    await this.deps.records.change().saveOwned(this.dest.type, this.dest.name, owned).commit();
  }

  private async commitDisown(t: TargetState): Promise<void> {
    await this.deps.records.change().deleteOwned(this.dest.type, this.dest.name, t.name).commit();
  }

  private record(t: TargetState, fields: Pick<OwnedSecret, 'state' | 'via'> & Partial<OwnedSecret>): OwnedSecret {
    const a = this.deps.association;
    return {
      name: t.name,
      accessor: a.accessor,
      secret_name: a.secret_name,
      sub_key: t.sub_key,
      recorded_at: nowIso(this.deps.clock()),
      ...fields,
    };
  }

  /**
   * Reports the optional permissions AWS denied on the destination, once: an unchanged report
   * writes nothing, and one that worked again is taken off.
   */
  async reportPermissions(): Promise<void> {
    const { missing, granted } = this;
    const { destination } = this.deps;
    const known = destination.missing_permissions ?? {};
    const news = [...missing].filter(([action, consequence]) => known[action] !== consequence);
    const stale = [...granted].filter((action) => action in known && !missing.has(action));
    if (news.length === 0 && stale.length === 0) return;
    await this.deps.records.updateMissingPermissions(destination.type, destination.name, (current) => {
      for (const [action, consequence] of news) current[action] = consequence;
      for (const action of stale) delete current[action];
      return current;
    });
  }

  private note<T extends CallReport>(report: T): T {
    this.noteMissing(report.missing);
    for (const action of report.granted) this.granted.add(action);
    return report;
  }

  private noteMissing(missing: MissingPermission[]): void {
    for (const m of missing) this.missing.set(m.action, m.consequence);
  }
}

/** What a target's record says about its secret's configuration. */
export function knownConfig(t: TargetState): KnownConfig {
  return { configDigest: t.config_digest, appliedTags: t.applied_tags, appliedReplicas: t.applied_replicas, appliedKmsKeyId: t.applied_kms };
}

/** The configuration a secret created from `spec` carries. */
function assumeApplied(spec: ExternalSecretSpec): KnownConfig {
  return {
    configDigest: configDigest(spec),
    appliedTags: spec.tags,
    appliedReplicas: Object.keys(spec.replicaRegions),
    appliedKmsKeyId: spec.kmsKeyId,
  };
}
