/**
 * The AWS Secrets Manager adapter (over 400 lines on purpose: every Secrets Manager call Ferry
 * makes, its error classification and the per-destination client cache belong together, so that
 * the AWS SDK is imported in this folder only and each call's denial handling sits beside it).
 */
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  ListSecretsCommand,
  RemoveRegionsFromReplicationCommand,
  ReplicateSecretToRegionsCommand,
  RestoreSecretCommand,
  SecretsManagerClient,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateSecretCommand,
} from '@aws-sdk/client-secrets-manager';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { OWNER_TAG, SYNC_TAG, type Destination } from '../model.js';
import {
  DeliveryError,
  configDigest,
  type AdapterRegistry,
  type CallReport,
  type CreateResult,
  type DestinationAdapter,
  type ExistingSecret,
  type ExternalSecretSpec,
  type KnownConfig,
  type ListedSecret,
  type MissingPermission,
  type UpdateResult,
} from '../port.js';
import { endpointAllowed } from '../operator-fields.js';
import { NetworkPolicy, endpointOf, type ChosenEndpoint } from '../network-policy.js';
import { destinationAgents, systemResolver, type DestinationAgents, type Resolver } from './connections.js';
import { classifyAwsError } from './errors.js';
import { credentialsFor, observeCalls, type CredentialDeps, type DestinationCredentials } from './credentials.js';
import { SharedConfigFiles } from './shared-config.js';

const errName = (err: unknown) => (err as { name?: string }).name;
const errMessage = (err: unknown) => (err as { message?: string }).message ?? '';
const isScheduledForDeletion = (err: unknown) => errName(err) === 'InvalidRequestException' && /deletion/i.test(errMessage(err));
const isAccessDenied = (err: unknown) => errName(err) === 'AccessDeniedException' || errName(err) === 'AccessDenied';
/** The IAM action an AccessDenied answer names: "… is not authorized to perform: secretsmanager:X on resource: …". */
const deniedAction = (err: unknown) => /not authorized to perform: ([\w:*-]+)/.exec(errMessage(err))?.[1];

/** What Ferry does without each optional permission (README, "Least privilege"). */
const WITHOUT: Record<string, string> = {
  'secretsmanager:DescribeSecret':
    'a secret found at a target name that Ferry has no record of creating is never written, since its tags cannot be checked',
  'secretsmanager:UntagResource': 'custom tags removed from the destination stay on its secrets in AWS',
  'secretsmanager:ReplicateSecretToRegions': 'secrets are not replicated to replica_regions',
  'secretsmanager:RemoveRegionsFromReplication': 'replicas are not removed, and AWS refuses to delete a secret that still has replicas',
  'secretsmanager:ListSecrets': 'drift repair is off: out-of-band changes and deletes in AWS are not noticed',
  'secretsmanager:RestoreSecret':
    'a synced secret scheduled for deletion out of band is deleted and created again (its earlier versions are lost) instead of restored',
};
const missing = (action: string): MissingPermission => ({ action, consequence: WITHOUT[action] ?? 'the call is skipped' });
const newReport = (...calls: string[]): CallReport => ({ calls, missing: [], granted: [] });

/** The version a `VersionIdsToStages` (or `SecretVersionsToStages`) map labels AWSCURRENT. */
const currentVersion = (stages: Record<string, string[]> | undefined) =>
  Object.entries(stages ?? {}).find(([, labels]) => labels.includes('AWSCURRENT'))?.[0];

/** A write found no live secret at the ARN: deleted out of band, purged, or scheduled for deletion. */
class NotWritable extends Error {
  constructor(public readonly kind: 'gone' | 'scheduled') {
    super(`secret ${kind}`);
  }
}

/**
 * AWS Secrets Manager through the real SDK, one call per step. What the guide's minimal policy
 * grants (Create*, Update*, Delete*, TagResource) is all the default path uses: a value write
 * is UpdateSecret with SecretString and the deterministic ClientRequestToken, so a steady-state
 * update is exactly one call. DescribeSecret, RestoreSecret, UntagResource and replication are
 * optional: a denial is reported as a missing permission and the step goes on without it.
 */
/**
 * The ARN in AWS's answer to a CreateSecret whose request token already names a version of the
 * secret at that name — "You can't use ClientRequestToken <token> because that value is already
 * in use for a version of secret <arn>." — which proves the secret is the one that request made;
 * undefined for any other answer. Anchored on the whole sentence and the token sent: the "already
 * exists" answer names the secret, and a name may contain any of these words.
 */
function versionOfOurToken(message: string, token: string): string | undefined {
  const prefix = `You can't use ClientRequestToken ${token} because that value is already in use for a version of secret `;
  if (!message.startsWith(prefix)) return undefined;
  return /^(arn:aws[a-z-]*:secretsmanager:[^\s]+?)\.?$/.exec(message.slice(prefix.length))?.[1];
}

export class AwsSecretsManagerAdapter implements DestinationAdapter {
  private readonly client: SecretsManagerClient;

  constructor(
    private readonly destination: Destination,
    private readonly credentials: DestinationCredentials,
    private readonly agents: DestinationAgents,
    observer?: CredentialDeps['observer'],
  ) {
    const c = destination.connection;
    this.client = new SecretsManagerClient({
      region: c.region,
      ...(c.endpoint_url ? { endpoint: c.endpoint_url } : {}),
      ...(credentials.provider ? { credentials: credentials.provider } : {}),
      // Retries belong to the worker (one policy, jittered backoff, status reporting).
      maxAttempts: 1,
      // The destination's sockets, checked by its strict-networking policy (`connections.ts`).
      // throwOnRequestTimeout: without it the SDK only logs a warning at requestTimeout and goes on
      // waiting, so a call AWS never answers would hold its in-flight slot (`pacing.ts`) for good.
      requestHandler: {
        requestTimeout: 10_000,
        throwOnRequestTimeout: true,
        connectionTimeout: 5_000,
        httpAgent: agents.httpAgent,
        httpsAgent: agents.httpsAgent,
      },
    });
    observeCalls(this.client, destination, observer, classifyAwsError);
  }

  async create(spec: ExternalSecretSpec): Promise<CreateResult> {
    const report = newReport('CreateSecret');
    let replicas = Object.entries(spec.replicaRegions).map(([Region, KmsKeyId]) => ({ Region, ...(KmsKeyId ? { KmsKeyId } : {}) }));
    for (;;) {
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
        if (replicas.length > 0) report.granted.push('secretsmanager:ReplicateSecretToRegions');
        return {
          kind: 'created',
          arn: out.ARN ?? spec.name,
          versionId: out.VersionId ?? spec.requestToken,
          configDigest: configDigest(spec),
          appliedTags: { ...spec.tags },
          appliedReplicas: replicas.map((r) => r.Region),
          appliedKmsKeyId: spec.kmsKeyId,
          ...report,
        };
      } catch (err) {
        // Creating with replicas also needs ReplicateSecretToRegions: without it, create unreplicated.
        if (replicas.length > 0 && isAccessDenied(err) && deniedAction(err) === 'secretsmanager:ReplicateSecretToRegions') {
          report.missing.push(missing('secretsmanager:ReplicateSecretToRegions'));
          report.calls.push('CreateSecret');
          replicas = [];
          continue;
        }
        if (errName(err) === 'ResourceExistsException') {
          const arn = versionOfOurToken(errMessage(err), spec.requestToken);
          return arn === undefined ? { kind: 'taken', ours: false } : { kind: 'taken', ours: true, arn };
        }
        if (isScheduledForDeletion(err)) {
          // Just force-deleted (AWS purges asynchronously), or deleted out of band with a recovery window.
          throw new DeliveryError(
            'transient',
            'PENDING',
            'NameBeingDeleted',
            `the name "${spec.name}" is scheduled for deletion in AWS Secrets Manager (still being purged after a delete); retrying`,
          );
        }
        throw this.classify(err, 'CreateSecret');
      }
    }
  }

  async update(arn: string, spec: ExternalSecretSpec, known: KnownConfig): Promise<UpdateResult> {
    const report = newReport('UpdateSecret');
    try {
      const out = await this.writable('UpdateSecret', () =>
        this.client.send(new UpdateSecretCommand({ SecretId: arn, SecretString: spec.value, ClientRequestToken: spec.requestToken })),
      );
      const digest = configDigest(spec);
      const config = digest === known.configDigest ? undefined : await this.applyConfig(arn, spec, known, report);
      return {
        kind: 'written',
        arn,
        versionId: out.VersionId ?? spec.requestToken,
        configDigest: digest,
        appliedTags: config?.appliedTags ?? known.appliedTags ?? spec.tags,
        appliedReplicas: config?.appliedReplicas ?? known.appliedReplicas ?? Object.keys(spec.replicaRegions),
        appliedKmsKeyId: config ? spec.kmsKeyId : (known.appliedKmsKeyId ?? spec.kmsKeyId),
        ...report,
      };
    } catch (err) {
      if (err instanceof NotWritable) return { kind: err.kind };
      throw err;
    }
  }

  async reconfigure(arn: string, spec: ExternalSecretSpec, known: KnownConfig): Promise<UpdateResult> {
    const report = newReport();
    try {
      const config = await this.applyConfig(arn, spec, known, report);
      return { kind: 'written', arn, configDigest: configDigest(spec), ...config, appliedKmsKeyId: spec.kmsKeyId, ...report };
    } catch (err) {
      if (err instanceof NotWritable) return { kind: err.kind };
      throw err;
    }
  }

  async describe(name: string): Promise<ExistingSecret | undefined | MissingPermission> {
    try {
      const d = await this.client.send(new DescribeSecretCommand({ SecretId: name }));
      return {
        arn: d.ARN ?? name,
        tags: Object.fromEntries((d.Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? ''])),
        kmsKeyId: d.KmsKeyId ?? '',
        replicas: (d.ReplicationStatus ?? []).map((r) => r.Region ?? '').filter(Boolean),
        scheduledForDeletion: d.DeletedDate !== undefined,
        currentVersionId: currentVersion(d.VersionIdsToStages),
      };
    } catch (err) {
      if (errName(err) === 'ResourceNotFoundException') return undefined;
      if (isAccessDenied(err)) return missing('secretsmanager:DescribeSecret');
      throw this.classify(err, 'DescribeSecret');
    }
  }

  async list(nextToken?: string): Promise<{ secrets: ListedSecret[]; nextToken?: string } | MissingPermission> {
    try {
      const out = await this.client.send(new ListSecretsCommand({ MaxResults: 100, IncludePlannedDeletion: true, ...(nextToken ? { NextToken: nextToken } : {}) }));
      return {
        secrets: (out.SecretList ?? []).map((e) => ({
          name: e.Name ?? '',
          currentVersionId: currentVersion(e.SecretVersionsToStages),
          tags: Object.fromEntries((e.Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? ''])),
          scheduledForDeletion: e.DeletedDate !== undefined,
        })),
        ...(out.NextToken ? { nextToken: out.NextToken } : {}),
      };
    } catch (err) {
      if (isAccessDenied(err)) return missing('secretsmanager:ListSecrets');
      throw this.classify(err, 'ListSecrets');
    }
  }

  async restore(arn: string): Promise<true | MissingPermission> {
    try {
      await this.client.send(new RestoreSecretCommand({ SecretId: arn }));
      return true;
    } catch (err) {
      if (isAccessDenied(err)) return missing('secretsmanager:RestoreSecret');
      throw this.classify(err, 'RestoreSecret');
    }
  }

  async remove(arn: string, replicas: string[]): Promise<CallReport> {
    const report = newReport();
    if (replicas.length > 0) {
      // AWS refuses to delete a primary that still has replicas.
      report.calls.push('RemoveRegionsFromReplication');
      try {
        await this.client.send(new RemoveRegionsFromReplicationCommand({ SecretId: arn, RemoveReplicaRegions: replicas }));
        report.granted.push('secretsmanager:RemoveRegionsFromReplication');
      } catch (err) {
        if (isAccessDenied(err)) report.missing.push(missing('secretsmanager:RemoveRegionsFromReplication'));
        else if (errName(err) !== 'ResourceNotFoundException' && errName(err) !== 'InvalidParameterException') {
          throw this.classify(err, 'RemoveRegionsFromReplication');
        }
      }
    }
    report.calls.push('DeleteSecret');
    try {
      await this.client.send(new DeleteSecretCommand({ SecretId: arn, ForceDeleteWithoutRecovery: true }));
    } catch (err) {
      if (errName(err) !== 'ResourceNotFoundException') throw this.classify(err, 'DeleteSecret');
    }
    return report;
  }

  /** Runs a write on an existing secret; a missing or deleted one is `NotWritable`, not a failure. */
  private async writable<T>(context: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (errName(err) === 'ResourceNotFoundException') throw new NotWritable('gone');
      if (isScheduledForDeletion(err)) throw new NotWritable('scheduled');
      throw this.classify(err, context);
    }
  }

  /** An optional call: a denial is reported and skipped (false); success is noted as granted. */
  private async optional(action: string, report: CallReport, fn: () => Promise<unknown>): Promise<boolean> {
    report.calls.push(action.replace('secretsmanager:', ''));
    try {
      await this.writable(action.replace('secretsmanager:', ''), fn);
      report.granted.push(action);
      return true;
    } catch (err) {
      if (!(err instanceof DeliveryError && err.code === 'AccessDeniedException')) throw err;
      report.missing.push(missing(action));
      return false;
    }
  }

  /** Brings tags, KMS key and replicas in line; only the calls whose target changed are made. */
  private async applyConfig(
    arn: string,
    spec: ExternalSecretSpec,
    known: KnownConfig,
    report: CallReport,
  ): Promise<{ appliedTags: Record<string, string>; appliedReplicas: string[] }> {
    const before = known.appliedTags ?? {};
    const appliedTags = { ...spec.tags };
    const changed = Object.entries(spec.tags).filter(([k, v]) => before[k] !== v);
    if (changed.length > 0) {
      report.calls.push('TagResource');
      await this.writable('TagResource', () =>
        this.client.send(new TagResourceCommand({ SecretId: arn, Tags: changed.map(([Key, Value]) => ({ Key, Value })) })),
      );
    }
    // Only keys this server applied before are removed; tags others set stay, and so do Ferry's own.
    const removed = Object.keys(known.configDigest === undefined ? {} : before).filter(
      (k) => !(k in spec.tags) && k !== SYNC_TAG && k !== OWNER_TAG,
    );
    if (removed.length > 0) {
      const untagged = await this.optional('secretsmanager:UntagResource', report, () =>
        this.client.send(new UntagResourceCommand({ SecretId: arn, TagKeys: removed })),
      );
      if (!untagged) for (const k of removed) appliedTags[k] = before[k]!;
    }
    // An empty KmsKeyId moves the secret back to AWS's default key; an unknown current key is
    // left alone unless one is wanted.
    const currentKms = known.appliedKmsKeyId;
    if (currentKms !== undefined ? spec.kmsKeyId !== currentKms : spec.kmsKeyId !== '') {
      report.calls.push('UpdateSecret');
      await this.writable('UpdateSecret', () => this.client.send(new UpdateSecretCommand({ SecretId: arn, KmsKeyId: spec.kmsKeyId })));
    }
    const wanted = Object.keys(spec.replicaRegions);
    const have = known.appliedReplicas ?? [];
    const add = wanted.filter((r) => !have.includes(r));
    const drop = have.filter((r) => !wanted.includes(r));
    let appliedReplicas = wanted;
    if (add.length > 0) {
      const replicated = await this.optional('secretsmanager:ReplicateSecretToRegions', report, () =>
        this.client.send(
          new ReplicateSecretToRegionsCommand({
            SecretId: arn,
            AddReplicaRegions: add.map((Region) => ({ Region, ...(spec.replicaRegions[Region] ? { KmsKeyId: spec.replicaRegions[Region] } : {}) })),
          }),
        ),
      );
      if (!replicated) appliedReplicas = appliedReplicas.filter((r) => !add.includes(r));
    }
    if (drop.length > 0) {
      const dropped = await this.optional('secretsmanager:RemoveRegionsFromReplication', report, () =>
        this.client.send(new RemoveRegionsFromReplicationCommand({ SecretId: arn, RemoveReplicaRegions: drop })),
      );
      if (!dropped) appliedReplicas = [...appliedReplicas, ...drop];
    }
    return { appliedTags, appliedReplicas };
  }

  /** Classifies an SDK error; expired session credentials are dropped so the retry fetches new ones. */
  private classify(err: unknown, context: string): DeliveryError {
    const classified = classifyAwsError(err, context);
    if (classified.code === 'ExpiredTokenException' || classified.code === 'ExpiredToken') this.credentials.invalidate();
    return classified;
  }

  /** The account the credentials belong to (sts:GetCallerIdentity, which needs no permission), through the destination's sockets. */
  async callerAccount(): Promise<string | undefined> {
    const c = this.destination.connection;
    const sts = new STSClient({
      region: c.region,
      ...(c.sts_endpoint_url || c.endpoint_url ? { endpoint: c.sts_endpoint_url || c.endpoint_url } : {}),
      ...(this.credentials.provider ? { credentials: this.credentials.provider } : {}),
      maxAttempts: 1,
      // Asked while an API request waits: a short bound.
      requestHandler: {
        requestTimeout: 5_000,
        throwOnRequestTimeout: true,
        connectionTimeout: 3_000,
        httpAgent: this.agents.httpAgent,
        httpsAgent: this.agents.httpsAgent,
      },
    });
    try {
      return (await sts.send(new GetCallerIdentityCommand({}))).Account;
    } catch {
      return undefined;
    } finally {
      sts.destroy();
    }
  }

  destroy(): void {
    this.client.destroy();
    this.agents.destroy();
  }
}

/** Which version of which destination an adapter was built for: a re-created destination is another one. */
const versionOf = (d: Destination) => `${d.incarnation ?? ''}#${d.generation}`;

export interface AwsAdapterDeps extends CredentialDeps {
  /** How hostnames are resolved for the strict-networking checks; the system's resolver by default (tests map names). */
  resolve?: Resolver;
  /** The server configuration's `sync.allowed_endpoint_prefixes`. */
  allowedEndpointPrefixes?: readonly string[];
}

/**
 * A destination's strict-networking policy: its allowed_* fields, with the endpoints a sudo
 * holder set allowed by themselves — unless the server's configuration no longer allows such an
 * endpoint, which then refuses every connection.
 */
export function networkPolicyOf(d: Destination, allowedEndpointPrefixes: readonly string[] = []): NetworkPolicy {
  const endpoints = [d.connection.endpoint_url, d.connection.sts_endpoint_url].filter((u) => u !== '');
  const outside = endpoints.find((u) => !endpointAllowed(u, allowedEndpointPrefixes));
  const chosen = endpoints.map(endpointOf).filter((e): e is ChosenEndpoint => e !== undefined);
  return new NetworkPolicy(
    d.connection,
    outside ? [] : chosen,
    outside ? `the endpoint ${outside} is not under the server configuration's sync.allowed_endpoint_prefixes` : undefined,
  );
}

/**
 * The account a destination states without asking AWS: its role's (the secrets are written in
 * the role's account, whoever assumes it), else the one its static keys were found to belong to.
 */
function statedAccount(d: Destination): string | undefined {
  const roleAccount = /^arn:[^:]+:iam::(\d{12}):/.exec(d.connection.role_arn)?.[1];
  if (roleAccount) return roleAccount;
  return d.connection.access_key_id !== '' ? d.keys_account : undefined;
}

/** How long an account that could not be learnt is not asked for again. */
const UNKNOWN_ACCOUNT_MS = 60_000;

/**
 * One adapter (SDK clients, credentials, sockets) per destination incarnation and generation.
 * `reset` (on seal) drops every client with the credentials it holds, and what the SDK was given
 * of its shared files.
 */
export class AwsAdapterRegistry implements AdapterRegistry {
  private readonly cache = new Map<string, { version: string; adapter: AwsSecretsManagerAdapter }>();
  private readonly sharedFiles = new SharedConfigFiles();
  private readonly accounts = new Map<string, { version: string; account: Promise<string | undefined>; askedAt: number }>();

  constructor(private readonly deps: AwsAdapterDeps) {}

  accountOf(destination: Destination): Promise<string | undefined> {
    const stated = statedAccount(destination);
    if (stated) return Promise.resolve(stated);
    const key = `${destination.type}/${destination.name}`;
    const now = this.deps.clock();
    const known = this.accounts.get(key);
    if (known && known.version === versionOf(destination) && now - known.askedAt < UNKNOWN_ACCOUNT_MS) return known.account;
    const account = (this.adapterFor(destination) as AwsSecretsManagerAdapter).callerAccount();
    this.accounts.set(key, { version: versionOf(destination), account, askedAt: now });
    // A learnt account stays known for this version of the destination; an unknown one is asked again later.
    void account.then((a) => {
      if (a !== undefined && this.accounts.get(key)?.account === account) this.accounts.set(key, { version: versionOf(destination), account, askedAt: Infinity });
    });
    return account;
  }

  async accountOfCandidate(destination: Destination): Promise<string | undefined> {
    const stated = statedAccount(destination);
    if (stated) return stated;
    const agents = destinationAgents(networkPolicyOf(destination, this.deps.allowedEndpointPrefixes), this.deps.resolve ?? systemResolver);
    const adapter = new AwsSecretsManagerAdapter(destination, credentialsFor(destination, this.deps, agents), agents);
    try {
      return await adapter.callerAccount();
    } finally {
      adapter.destroy();
    }
  }

  adapterFor(destination: Destination): DestinationAdapter {
    const key = `${destination.type}/${destination.name}`;
    const cached = this.cache.get(key);
    if (cached && cached.version === versionOf(destination)) return cached.adapter;
    cached?.adapter.destroy();
    this.sharedFiles.load();
    const agents = destinationAgents(networkPolicyOf(destination, this.deps.allowedEndpointPrefixes), this.deps.resolve ?? systemResolver);
    const adapter = new AwsSecretsManagerAdapter(destination, credentialsFor(destination, this.deps, agents), agents, this.deps.observer);
    this.cache.set(key, { version: versionOf(destination), adapter });
    return adapter;
  }

  reset(): void {
    for (const { adapter } of this.cache.values()) adapter.destroy();
    this.cache.clear();
    this.accounts.clear();
    this.sharedFiles.forget();
  }
}
