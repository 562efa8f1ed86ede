/**
 * Operations on secret values and their versions: CreateSecret, PutSecretValue, UpdateSecret,
 * GetSecretValue, BatchGetSecretValue, ListSecretVersionIds, UpdateSecretVersionStage.
 * Check order follows AWS: parameters, then the secret, then its deleted state, then token
 * idempotency (moto checks idempotency before the deleted state — pitfall #8).
 */
import { AwsError } from '../errors.js';
import { getSecretValueRequest } from './access.js';
import type { Handler, OpContext } from './context.js';
import { smErrors } from './errors.js';
import { applyFilters, type Filter } from './filters.js';
import { page } from './paging.js';
import { addReplicas, type ReplicaRegionInput } from './replication.js';
import { checkTokenLength, checkValue, hasValue, mergeTags, requireToken, writable, type ValueInput } from './rules.js';
import {
  accessDay,
  AWSCURRENT,
  countDeprecated,
  DAY_MS,
  epochSeconds,
  isValidName,
  MAX_DEPRECATED_VERSIONS,
  moveStage,
  sameValue,
  versionWithStage,
  type SecretCore,
  type SecretRecord,
  type SecretVersion,
  type Tag,
} from './store.js';

const MAX_STAGES_PER_VERSION = 20;

/**
 * Adds a version carrying `stages` (the first version of a secret always gets AWSCURRENT),
 * moving each label off its old holder. If the write would leave more deprecated versions than
 * AWS retains and none old enough can be purged, it is undone: LimitExceededException.
 */
function addVersion(core: SecretCore, versionId: string, value: ValueInput, stages: string[], now: number): SecretVersion {
  const labels = [...new Set(stages)];
  if (core.versions.size === 0 && !labels.includes(AWSCURRENT)) labels.push(AWSCURRENT);
  const before = new Map([...core.versions].map(([id, v]) => [id, [...v.stages]]));
  const version: SecretVersion = {
    versionId,
    stages: [],
    ...(value.SecretString !== undefined ? { secretString: value.SecretString } : {}),
    ...(value.SecretBinary !== undefined ? { secretBinary: Buffer.from(value.SecretBinary) } : {}),
    createdDate: now,
  };
  core.versions.set(versionId, version);
  for (const label of labels) moveStage(core, label, version);
  let excess = countDeprecated(core) - MAX_DEPRECATED_VERSIONS;
  for (const v of [...core.versions.values()]) {
    if (excess <= 0) break;
    if (v.stages.length === 0 && now - v.createdDate >= DAY_MS) {
      core.versions.delete(v.versionId);
      excess -= 1;
    }
  }
  if (excess > 0) {
    core.versions.delete(versionId);
    for (const [id, stagesBefore] of before) {
      const v = core.versions.get(id);
      if (v !== undefined) v.stages = stagesBefore;
    }
    throw smErrors.tooManyVersions();
  }
  core.lastChangedDate = now;
  return version;
}

/** Same token: same value → the existing version (no-op); other value → ResourceExistsException. */
function replay(record: SecretRecord, token: string, value: ValueInput): SecretVersion | undefined {
  const existing = record.core.versions.get(token);
  if (existing === undefined) return undefined;
  if (!sameValue(existing, value.SecretString, value.SecretBinary)) throw smErrors.tokenInUse(token, record.arn);
  return existing;
}

export interface CreateSecretInput extends ValueInput {
  Name: string;
  ClientRequestToken?: string;
  Description?: string;
  KmsKeyId?: string;
  Tags?: Tag[];
  AddReplicaRegions?: ReplicaRegionInput[];
  ForceOverwriteReplicaSecret?: boolean;
}

export const createSecret: Handler<CreateSecretInput> = (ctx, input) => {
  if (!isValidName(input.Name)) throw smErrors.invalidName();
  checkValue(input);
  const withValue = hasValue(input);
  const token = withValue ? requireToken(input.ClientRequestToken) : input.ClientRequestToken;
  if (token !== undefined) checkTokenLength(token);
  const tags = input.Tags === undefined ? undefined : mergeTags([], input.Tags);
  for (const r of input.AddReplicaRegions ?? []) if (r.Region === ctx.region) throw smErrors.replicaSameRegion(r.Region);

  const existing = ctx.store.byName(ctx.accountId, ctx.region, input.Name, ctx.now);
  if (existing !== undefined) {
    if (existing.deletedDate !== undefined) throw smErrors.createWhileScheduled();
    if (token !== undefined && withValue && existing.core.versions.has(token)) {
      replay(existing, token, input);
      return { ARN: existing.arn, Name: existing.core.name, VersionId: token };
    }
    throw smErrors.secretExists(input.Name);
  }
  // Purged, but AWS is still purging it (spec §2.3: the error during the gap is unconfirmed; the
  // scheduled-for-deletion answer is chosen).
  if (ctx.store.purgingUntil(ctx.accountId, ctx.region, input.Name, ctx.now) !== undefined) throw smErrors.createWhileScheduled();

  const record = ctx.store.create(ctx.accountId, ctx.region, input.Name, ctx.now, ctx.newSecretSuffix);
  if (input.Description !== undefined && input.Description !== '') record.core.description = input.Description;
  if (input.KmsKeyId !== undefined && input.KmsKeyId !== '') record.kmsKeyId = input.KmsKeyId;
  if (tags !== undefined && tags.length > 0) record.core.tags = tags;
  if (withValue) addVersion(record.core, token!, input, [AWSCURRENT], ctx.now);
  const replication =
    input.AddReplicaRegions !== undefined
      ? addReplicas(ctx, record, input.AddReplicaRegions, input.ForceOverwriteReplicaSecret === true)
      : undefined;
  return {
    ARN: record.arn,
    Name: record.core.name,
    VersionId: withValue ? token : undefined,
    ReplicationStatus: replication,
  };
};

export interface PutSecretValueInput extends ValueInput {
  SecretId: string;
  ClientRequestToken?: string;
  VersionStages?: string[];
  RotationToken?: string;
}

export const putSecretValue: Handler<PutSecretValueInput> = (ctx, input) => {
  checkValue(input);
  if (!hasValue(input)) throw smErrors.noValue();
  const token = requireToken(input.ClientRequestToken);
  const record = writable(ctx, input.SecretId);
  const version =
    replay(record, token, input) ??
    addVersion(record.core, token, input, input.VersionStages ?? [AWSCURRENT], ctx.now);
  return { ARN: record.arn, Name: record.core.name, VersionId: version.versionId, VersionStages: [...version.stages] };
};

export interface UpdateSecretInput extends ValueInput {
  SecretId: string;
  ClientRequestToken?: string;
  Description?: string;
  KmsKeyId?: string;
}

export const updateSecret: Handler<UpdateSecretInput> = (ctx, input) => {
  checkValue(input);
  const withValue = hasValue(input);
  const token = withValue ? requireToken(input.ClientRequestToken) : undefined;
  const record = writable(ctx, input.SecretId);
  let versionId: string | undefined;
  if (token !== undefined) {
    versionId = (replay(record, token, input) ?? addVersion(record.core, token, input, [AWSCURRENT], ctx.now)).versionId;
  }
  if (input.Description !== undefined) {
    record.core.description = input.Description === '' ? undefined : input.Description;
    record.core.lastChangedDate = ctx.now;
  }
  if (input.KmsKeyId !== undefined) {
    // "" puts the secret back on the AWS managed key aws/secretsmanager (omitted in DescribeSecret).
    record.kmsKeyId = input.KmsKeyId === '' ? undefined : input.KmsKeyId;
    record.core.lastChangedDate = ctx.now;
  }
  return { ARN: record.arn, Name: record.core.name, VersionId: versionId };
};

function renderValue(record: SecretRecord, v: SecretVersion): Record<string, unknown> {
  return {
    ARN: record.arn,
    Name: record.core.name,
    VersionId: v.versionId,
    SecretString: v.secretString,
    SecretBinary: v.secretBinary?.toString('base64'),
    VersionStages: [...v.stages],
    CreatedDate: epochSeconds(v.createdDate),
  };
}

function markRead(ctx: OpContext, record: SecretRecord, v: SecretVersion): void {
  record.lastAccessedDate = ctx.now;
  v.lastAccessedDate = ctx.now;
}

export interface GetSecretValueInput {
  SecretId: string;
  VersionId?: string;
  VersionStage?: string;
}

/** The deleted state is checked before the version is resolved (moto gets this wrong — pitfall #18). */
export const getSecretValue: Handler<GetSecretValueInput> = (ctx, input) => {
  const record = ctx.store.resolve(ctx, input.SecretId);
  if (record.deletedDate !== undefined) throw smErrors.markedForDeletion();
  const core = record.core;
  let version: SecretVersion | undefined;
  if (input.VersionId !== undefined) {
    version = core.versions.get(input.VersionId);
    if (version === undefined) throw smErrors.noValueForVersion(input.VersionId);
    if (input.VersionStage !== undefined && !version.stages.includes(input.VersionStage)) throw smErrors.stageNotOnVersion();
  } else {
    const stage = input.VersionStage ?? AWSCURRENT;
    version = versionWithStage(core, stage);
    if (version === undefined) throw smErrors.noValueForStage(stage);
  }
  markRead(ctx, record, version);
  return renderValue(record, version);
};

export interface BatchGetSecretValueInput {
  SecretIdList?: string[];
  Filters?: Filter[];
  MaxResults?: number;
  NextToken?: string;
}

/** Per-secret failures are entries in `Errors`, never a failed call. */
export const batchGetSecretValue: Handler<BatchGetSecretValueInput> = (ctx, input) => {
  const byList = input.SecretIdList !== undefined;
  const byFilters = input.Filters !== undefined;
  if (byList === byFilters || (input.MaxResults !== undefined && !byFilters)) throw smErrors.batchSelector();

  const values: Record<string, unknown>[] = [];
  const errors: Array<{ SecretId: string; ErrorCode: string; Message: string }> = [];
  const fetch = (secretId: string, found?: SecretRecord) => {
    try {
      // Each secret needs GetSecretValue on it; a refusal is that secret's entry in Errors.
      ctx.authorize([getSecretValueRequest(ctx, secretId, found)]);
      const record = found ?? ctx.store.resolve(ctx, secretId);
      if (record.deletedDate !== undefined) throw smErrors.markedForDeletion();
      const v = versionWithStage(record.core, AWSCURRENT);
      if (v === undefined) throw smErrors.noValueForStage(AWSCURRENT);
      markRead(ctx, record, v);
      values.push(renderValue(record, v));
    } catch (e) {
      if (!(e instanceof AwsError)) throw e;
      errors.push({ SecretId: secretId, ErrorCode: e.code, Message: e.message });
    }
  };

  let nextToken: string | undefined;
  if (byList) {
    for (const id of input.SecretIdList!) fetch(id);
  } else {
    const params = { op: 'BatchGetSecretValue', filters: input.Filters };
    const matching = applyFilters(
      ctx.store.all(ctx.accountId, ctx.region, ctx.now).filter((r) => r.deletedDate === undefined),
      input.Filters!,
    ).sort((a, b) => a.core.createdDate - b.core.createdDate);
    const offset = input.NextToken === undefined ? 0 : ctx.pages.decode(input.NextToken, params);
    const slice = page(matching, offset, input.MaxResults ?? 20);
    for (const record of slice.items) fetch(record.arn, record);
    if (slice.next !== undefined) nextToken = ctx.pages.encode(slice.next, params);
  }
  return { SecretValues: values, Errors: errors.length > 0 ? errors : undefined, NextToken: nextToken };
};

export interface ListSecretVersionIdsInput {
  SecretId: string;
  MaxResults?: number;
  NextToken?: string;
  IncludeDeprecated?: boolean;
}

/** Deprecated (unlabelled) versions are listed only with IncludeDeprecated. */
export const listSecretVersionIds: Handler<ListSecretVersionIdsInput> = (ctx, input) => {
  const record = ctx.store.resolve(ctx, input.SecretId);
  const includeDeprecated = input.IncludeDeprecated === true;
  const params = { op: 'ListSecretVersionIds', arn: record.arn, includeDeprecated };
  const versions = [...record.core.versions.values()].filter((v) => includeDeprecated || v.stages.length > 0);
  const offset = input.NextToken === undefined ? 0 : ctx.pages.decode(input.NextToken, params);
  const slice = page(versions, offset, input.MaxResults ?? 100);
  return {
    ARN: record.arn,
    Name: record.core.name,
    Versions: slice.items.map((v) => ({
      VersionId: v.versionId,
      VersionStages: v.stages.length > 0 ? [...v.stages] : undefined,
      LastAccessedDate: v.lastAccessedDate !== undefined ? accessDay(v.lastAccessedDate) : undefined,
      CreatedDate: epochSeconds(v.createdDate),
    })),
    NextToken: slice.next !== undefined ? ctx.pages.encode(slice.next, params) : undefined,
  };
};

export interface UpdateSecretVersionStageInput {
  SecretId: string;
  VersionStage: string;
  RemoveFromVersionId?: string;
  MoveToVersionId?: string;
}

/**
 * Moves or removes one label. A label attached elsewhere can only move when the caller names its
 * current holder in RemoveFromVersionId; moving AWSCURRENT applies the AWSPREVIOUS rule, so at
 * most one version ever holds AWSPREVIOUS (moto can leave two — pitfall #11).
 */
export const updateSecretVersionStage: Handler<UpdateSecretVersionStageInput> = (ctx, input) => {
  const record = writable(ctx, input.SecretId);
  const core = record.core;
  const stage = input.VersionStage;
  const target = input.MoveToVersionId === undefined ? undefined : core.versions.get(input.MoveToVersionId);
  if (input.MoveToVersionId !== undefined && target === undefined) throw smErrors.noValueForVersion(input.MoveToVersionId);
  if (input.RemoveFromVersionId !== undefined && !core.versions.has(input.RemoveFromVersionId)) {
    throw smErrors.noValueForVersion(input.RemoveFromVersionId);
  }
  const holder = versionWithStage(core, stage);
  if (input.RemoveFromVersionId !== undefined && holder?.versionId !== input.RemoveFromVersionId) {
    throw smErrors.stageNotOnRemoveVersion(stage, input.RemoveFromVersionId);
  }
  if (target !== undefined) {
    if (holder !== undefined && holder !== target && input.RemoveFromVersionId === undefined) {
      throw smErrors.moveCurrentWithoutRemove(stage, holder.versionId);
    }
    if (!target.stages.includes(stage) && target.stages.length >= MAX_STAGES_PER_VERSION) throw smErrors.tooManyStages();
    moveStage(core, stage, target);
  } else if (holder !== undefined && input.RemoveFromVersionId !== undefined) {
    if (stage === AWSCURRENT) {
      // chosen wording: AWSCURRENT can only move, never be detached.
      throw new AwsError(
        'InvalidParameterException',
        "You can only move staging label AWSCURRENT to a different secret version. It can't be completely removed.",
      );
    }
    holder.stages = holder.stages.filter((s) => s !== stage);
  }
  core.lastChangedDate = ctx.now;
  return { ARN: record.arn, Name: core.name };
};

