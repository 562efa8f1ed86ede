import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  PutSecretValueCommand,
  RemoveRegionsFromReplicationCommand,
  ReplicateSecretToRegionsCommand,
  RestoreSecretCommand,
  SecretsManagerClient,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateSecretCommand,
  type DescribeSecretCommandOutput,
} from '@aws-sdk/client-secrets-manager';
import { OWNERSHIP_TAG, type Destination } from '../model.js';
import {
  DeliveryError,
  configDigest,
  type AdapterRegistry,
  type DestinationAdapter,
  type ExternalSecretSpec,
  type KnownExternalState,
  type UpsertOutcome,
  type WriteClass,
} from '../port.js';
import { classifyAwsError, sanitiseProviderMessage } from './errors.js';
import { credentialsFor, type CredentialDeps, type DestinationCredentials } from './credentials.js';


const isScheduledForDeletion = (err: unknown) =>
  (err as { name?: string }).name === 'InvalidRequestException' && /deletion/i.test((err as Error).message ?? '');
const errName = (err: unknown) => (err as { name?: string }).name;

/** PutSecretValue found no live secret to write to (deleted out of band, or scheduled for deletion). */
class SecretGone extends Error {
  constructor(public readonly code: string) {
    super(`secret gone (${code})`);
  }
}

/**
 * AWS Secrets Manager through the real SDK. A steady-state update is exactly one
 * PutSecretValue; describe, tag, KMS and replica calls happen only when a secret is
 * first created or adopted, or when something besides the value changed. A secret that
 * exists without the ownership tag is never written.
 */
export class AwsSecretsManagerAdapter implements DestinationAdapter {
  private readonly client: SecretsManagerClient;

  constructor(
    private readonly destination: Destination,
    private readonly credentials: DestinationCredentials,
  ) {
    const c = destination.connection;
    this.client = new SecretsManagerClient({
      region: c.region,
      ...(c.endpoint_url ? { endpoint: c.endpoint_url } : {}),
      ...(credentials.provider ? { credentials: credentials.provider } : {}),
      // Retries belong to the worker (one policy, jittered backoff, status reporting).
      maxAttempts: 1,
      requestHandler: { requestTimeout: 10_000, connectionTimeout: 5_000 },
    });
  }

  firstWriteClass(known: KnownExternalState): WriteClass {
    return known.owned ? 'put' : 'create';
  }

  private async send<T>(context: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw this.classify(err, context);
    }
  }

  async upsert(spec: ExternalSecretSpec, known: KnownExternalState): Promise<UpsertOutcome> {
    const calls: string[] = [];
    const digest = configDigest(spec);
    if (known.owned) {
      const id = known.arn ?? spec.name;
      const put = await this.putValue(id, spec, calls).catch((err: unknown) => err);
      if (!(put instanceof Error)) {
        const config = digest === known.configDigest ? undefined : await this.applyConfig(id, spec, known, calls);
        return {
          arn: known.arn ?? id,
          configDigest: digest,
          appliedTags: config?.appliedTags ?? known.appliedTags ?? spec.tags,
          appliedReplicas: config?.appliedReplicas ?? known.appliedReplicas ?? Object.keys(spec.replicaRegions),
          appliedKmsKeyId: config ? spec.kmsKeyId : (known.appliedKmsKeyId ?? spec.kmsKeyId),
          calls,
        };
      }
      // Deleted out of band, or scheduled for deletion: fall through to create-or-adopt.
      if (!(put instanceof SecretGone)) throw put;
    }
    return this.createOrAdopt(spec, digest, calls);
  }

  async reconfigure(spec: ExternalSecretSpec, known: KnownExternalState): Promise<UpsertOutcome> {
    const calls: string[] = [];
    const id = known.arn ?? spec.name;
    const config = await this.applyConfig(id, spec, known, calls);
    return {
      arn: id,
      configDigest: configDigest(spec),
      appliedTags: config.appliedTags,
      appliedReplicas: config.appliedReplicas,
      appliedKmsKeyId: spec.kmsKeyId,
      calls,
    };
  }

  private async putValue(id: string, spec: ExternalSecretSpec, calls: string[]): Promise<void> {
    calls.push('PutSecretValue');
    try {
      await this.client.send(new PutSecretValueCommand({ SecretId: id, SecretString: spec.value, ClientRequestToken: spec.requestToken }));
    } catch (err) {
      const name = errName(err);
      if (name === 'ResourceNotFoundException' || isScheduledForDeletion(err)) throw new SecretGone(name ?? 'InvalidRequestException');
      throw this.classify(err, 'PutSecretValue');
    }
  }

  private async createOrAdopt(spec: ExternalSecretSpec, digest: string, calls: string[]): Promise<UpsertOutcome> {
    const replicas = Object.entries(spec.replicaRegions).map(([Region, KmsKeyId]) => ({ Region, ...(KmsKeyId ? { KmsKeyId } : {}) }));
    calls.push('CreateSecret');
    try {
      const out = await this.client.send(
        new CreateSecretCommand({
          Name: spec.name,
          SecretString: spec.value,
          ClientRequestToken: spec.requestToken,
          Tags: Object.entries(spec.tags).map(([Key, Value]) => ({ Key, Value })),
          ...(spec.kmsKeyId ? { KmsKeyId: spec.kmsKeyId } : {}),
          ...(replicas.length > 0 ? { AddReplicaRegions: replicas } : {}),
        }),
      );
      return {
        arn: out.ARN ?? spec.name,
        configDigest: digest,
        appliedTags: spec.tags,
        appliedReplicas: Object.keys(spec.replicaRegions),
        appliedKmsKeyId: spec.kmsKeyId,
        calls,
      };
    } catch (err) {
      const name = errName(err);
      if (name === 'ResourceExistsException' && /ClientRequestToken/.test((err as Error).message ?? '')) {
        throw new DeliveryError('final', 'INTERNAL_VAULT_ERROR', name, `CreateSecret: ${name}: ${sanitiseProviderMessage((err as Error).message)}`);
      }
      if (name !== 'ResourceExistsException' && !isScheduledForDeletion(err)) throw this.classify(err, 'CreateSecret');
    }
    // The name is taken (live or scheduled for deletion): adopt it only if it carries the ownership tag.
    calls.push('DescribeSecret');
    let described: DescribeSecretCommandOutput;
    try {
      described = await this.client.send(new DescribeSecretCommand({ SecretId: spec.name }));
    } catch (err) {
      // The name was taken a moment ago and is gone now: a force-deleted secret still being purged.
      if (errName(err) === 'ResourceNotFoundException') {
        throw new DeliveryError('transient', 'PENDING', 'NameBeingDeleted', `the name "${spec.name}" is still being deleted in AWS; retrying`);
      }
      throw this.classify(err, 'DescribeSecret');
    }
    const tags = Object.fromEntries((described.Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? '']));
    if (!(OWNERSHIP_TAG in tags)) {
      throw new DeliveryError(
        'final',
        'CLIENT_SIDE_ERROR',
        'SecretNotOwned',
        `a secret named "${spec.name}" already exists in AWS Secrets Manager without the ${OWNERSHIP_TAG} tag; Ferry does not overwrite secrets it did not create`,
      );
    }
    const arn = described.ARN ?? spec.name;
    if (described.DeletedDate) {
      calls.push('RestoreSecret');
      try {
        await this.client.send(new RestoreSecretCommand({ SecretId: arn }));
      } catch (err) {
        const classified = this.classify(err, 'RestoreSecret');
        // A secret scheduled for deletion is restored or waited out, never reported as a user error.
        throw classified.kind === 'final' ? new DeliveryError('transient', 'PENDING', classified.code, classified.message) : classified;
      }
    }
    await this.putValue(arn, spec, calls).catch((err: unknown) => {
      throw err instanceof SecretGone
        ? new DeliveryError('transient', 'EXTERNAL_SERVICE_ERROR', err.code, `secret "${spec.name}" changed state during adoption`)
        : err;
    });
    const currentReplicas = (described.ReplicationStatus ?? []).map((r) => r.Region ?? '').filter(Boolean);
    const config = await this.applyConfig(
      arn,
      spec,
      { owned: true, arn, appliedTags: tags, appliedReplicas: currentReplicas, configDigest: undefined, appliedKmsKeyId: described.KmsKeyId ?? '' },
      calls,
    );
    return {
      arn,
      configDigest: digest,
      appliedTags: config.appliedTags,
      appliedReplicas: config.appliedReplicas,
      appliedKmsKeyId: spec.kmsKeyId,
      calls,
    };
  }

  /** Brings tags, KMS key and replicas in line; only the calls whose target changed are made. */
  private async applyConfig(
    id: string,
    spec: ExternalSecretSpec,
    known: KnownExternalState,
    calls: string[],
  ): Promise<{ appliedTags: Record<string, string>; appliedReplicas: string[] }> {
    const before = known.appliedTags ?? {};
    const changed = Object.entries(spec.tags).filter(([k, v]) => before[k] !== v);
    if (changed.length > 0) {
      calls.push('TagResource');
      await this.send('TagResource', () =>
        this.client.send(new TagResourceCommand({ SecretId: id, Tags: changed.map(([Key, Value]) => ({ Key, Value })) })),
      );
    }
    // Only keys this server applied before are removed; tags others set stay.
    const removed = Object.keys(known.configDigest === undefined ? {} : before).filter((k) => !(k in spec.tags) && k !== OWNERSHIP_TAG);
    if (removed.length > 0) {
      calls.push('UntagResource');
      await this.send('UntagResource', () => this.client.send(new UntagResourceCommand({ SecretId: id, TagKeys: removed })));
    }
    // An empty KmsKeyId moves the secret back to AWS's default key; an unknown current key is
    // left alone unless one is wanted.
    const currentKms = known.appliedKmsKeyId;
    if (currentKms !== undefined ? spec.kmsKeyId !== currentKms : spec.kmsKeyId !== '') {
      calls.push('UpdateSecret');
      await this.send('UpdateSecret', () => this.client.send(new UpdateSecretCommand({ SecretId: id, KmsKeyId: spec.kmsKeyId })));
    }
    const wanted = Object.keys(spec.replicaRegions);
    const have = known.appliedReplicas ?? [];
    const add = wanted.filter((r) => !have.includes(r));
    const drop = have.filter((r) => !wanted.includes(r));
    if (add.length > 0) {
      calls.push('ReplicateSecretToRegions');
      await this.send('ReplicateSecretToRegions', () =>
        this.client.send(
          new ReplicateSecretToRegionsCommand({
            SecretId: id,
            AddReplicaRegions: add.map((Region) => ({ Region, ...(spec.replicaRegions[Region] ? { KmsKeyId: spec.replicaRegions[Region] } : {}) })),
          }),
        ),
      );
    }
    if (drop.length > 0) {
      calls.push('RemoveRegionsFromReplication');
      await this.send('RemoveRegionsFromReplication', () =>
        this.client.send(new RemoveRegionsFromReplicationCommand({ SecretId: id, RemoveReplicaRegions: drop })),
      );
    }
    return { appliedTags: { ...spec.tags }, appliedReplicas: wanted };
  }

  async remove(name: string, known: KnownExternalState): Promise<void> {
    let id = known.arn ?? name;
    let replicas = known.appliedReplicas ?? [];
    if (!known.owned) {
      // Not known to be ours — a write may have happened without its outcome being recorded
      // (a crash, a concurrent change). Delete only a secret that carries the ownership tag.
      let described: DescribeSecretCommandOutput;
      try {
        described = await this.client.send(new DescribeSecretCommand({ SecretId: name }));
      } catch (err) {
        if (errName(err) === 'ResourceNotFoundException') return;
        throw this.classify(err, 'DescribeSecret');
      }
      if (!(described.Tags ?? []).some((t) => t.Key === OWNERSHIP_TAG)) return;
      id = described.ARN ?? name;
      replicas = (described.ReplicationStatus ?? []).map((r) => r.Region ?? '').filter(Boolean);
    }
    if (replicas.length > 0) {
      // AWS refuses to delete a primary that still has replicas.
      try {
        await this.client.send(new RemoveRegionsFromReplicationCommand({ SecretId: id, RemoveReplicaRegions: replicas }));
      } catch (err) {
        if (errName(err) !== 'ResourceNotFoundException' && errName(err) !== 'InvalidParameterException') {
          throw this.classify(err, 'RemoveRegionsFromReplication');
        }
      }
    }
    try {
      await this.client.send(new DeleteSecretCommand({ SecretId: id, ForceDeleteWithoutRecovery: true }));
    } catch (err) {
      if (errName(err) === 'ResourceNotFoundException') return;
      throw this.classify(err, 'DeleteSecret');
    }
  }

  /** Classifies an SDK error; expired session credentials are dropped so the retry fetches new ones. */
  private classify(err: unknown, context: string): DeliveryError {
    const classified = classifyAwsError(err, context);
    if (classified.code === 'ExpiredTokenException' || classified.code === 'ExpiredToken') this.credentials.invalidate();
    return classified;
  }

  destroy(): void {
    this.client.destroy();
  }
}

/** One adapter (SDK client + credentials) per destination generation. */
export class AwsAdapterRegistry implements AdapterRegistry {
  private readonly cache = new Map<string, { generation: number; adapter: AwsSecretsManagerAdapter }>();

  constructor(private readonly deps: CredentialDeps) {}

  adapterFor(destination: Destination): DestinationAdapter {
    const key = `${destination.type}/${destination.name}`;
    const cached = this.cache.get(key);
    if (cached && cached.generation === destination.generation) return cached.adapter;
    cached?.adapter.destroy();
    const adapter = new AwsSecretsManagerAdapter(destination, credentialsFor(destination, this.deps));
    this.cache.set(key, { generation: destination.generation, adapter });
    return adapter;
  }

  reset(): void {
    for (const { adapter } of this.cache.values()) adapter.destroy();
    this.cache.clear();
  }
}
