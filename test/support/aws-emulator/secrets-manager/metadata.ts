/** Secret metadata: DescribeSecret, TagResource, UntagResource, ListSecrets. */
import type { Handler, OpContext } from './context.js';
import { applyFilters, type Filter } from './filters.js';
import { page } from './paging.js';
import { renderReplicationStatus, settleReplicas } from './replication.js';
import { checkTagKeys, mergeTags, writable } from './rules.js';
import { accessDay, epochSeconds, type SecretRecord, type Tag } from './store.js';

/**
 * The DescribeSecret view of a secret (ListSecrets entries are the same minus ReplicationStatus,
 * with the version map named SecretVersionsToStages). Absent members are omitted, never null.
 */
export function renderSecret(ctx: OpContext, record: SecretRecord, forList: boolean): Record<string, unknown> {
  const core = record.core;
  const labelled = [...core.versions.values()].filter((v) => v.stages.length > 0);
  const stages = labelled.length > 0 ? Object.fromEntries(labelled.map((v) => [v.versionId, [...v.stages]])) : undefined;
  const replicated = record.isReplica || record.replicas.size > 0;
  return {
    ARN: record.arn,
    Name: core.name,
    Description: core.description,
    KmsKeyId: record.kmsKeyId,
    LastChangedDate: epochSeconds(core.lastChangedDate),
    LastAccessedDate: record.lastAccessedDate !== undefined ? accessDay(record.lastAccessedDate) : undefined,
    DeletedDate: record.deletedDate !== undefined ? epochSeconds(record.deletedDate) : undefined,
    Tags: core.tags?.map((t) => ({ Key: t.Key, Value: t.Value })),
    [forList ? 'SecretVersionsToStages' : 'VersionIdsToStages']: stages,
    CreatedDate: epochSeconds(core.createdDate),
    PrimaryRegion: replicated ? core.primaryRegion : undefined,
    ReplicationStatus: !forList && !record.isReplica && record.replicas.size > 0 ? renderReplicationStatus(ctx, record) : undefined,
  };
}

export interface DescribeSecretInput {
  SecretId: string;
}

/** Works on a secret scheduled for deletion (it shows DeletedDate). */
export const describeSecret: Handler<DescribeSecretInput> = (ctx, input) => {
  const record = ctx.store.resolve(ctx, input.SecretId);
  if (!record.isReplica) settleReplicas(record);
  return renderSecret(ctx, record, false);
};

export interface TagResourceInput {
  SecretId: string;
  Tags: Tag[];
}

export const tagResource: Handler<TagResourceInput> = (ctx, input) => {
  checkTagKeys(input.Tags.map((t) => t.Key));
  const record = writable(ctx, input.SecretId);
  record.core.tags = mergeTags(record.core.tags ?? [], input.Tags);
  record.core.lastChangedDate = ctx.now;
  return {};
};

export interface UntagResourceInput {
  SecretId: string;
  TagKeys: string[];
}

/** Absent keys are ignored; after the last tag goes, DescribeSecret shows `"Tags": []`. */
export const untagResource: Handler<UntagResourceInput> = (ctx, input) => {
  checkTagKeys(input.TagKeys);
  const record = writable(ctx, input.SecretId);
  if (record.core.tags !== undefined) {
    const remove = new Set(input.TagKeys);
    record.core.tags = record.core.tags.filter((t) => !remove.has(t.Key));
  }
  record.core.lastChangedDate = ctx.now;
  return {};
};

export interface ListSecretsInput {
  IncludePlannedDeletion?: boolean;
  MaxResults?: number;
  NextToken?: string;
  Filters?: Filter[];
  SortOrder?: 'asc' | 'desc';
  SortBy?: 'created-date' | 'last-accessed-date' | 'last-changed-date' | 'name';
}

const SORT_KEYS: Record<NonNullable<ListSecretsInput['SortBy']>, (r: SecretRecord) => number | string> = {
  'created-date': (r) => r.core.createdDate,
  'last-accessed-date': (r) => r.lastAccessedDate ?? 0,
  'last-changed-date': (r) => r.core.lastChangedDate,
  name: (r) => r.core.name,
};

/**
 * Default order: created date ascending (the spec leaves the SortOrder default unconfirmed);
 * default page size 100. Secrets scheduled for deletion only with IncludePlannedDeletion. Under a
 * listing lag the records are a past view (listing-views.ts).
 */
export const listSecrets: Handler<ListSecretsInput> = (ctx, input) => {
  const params = {
    op: 'ListSecrets',
    filters: input.Filters ?? [],
    planned: input.IncludePlannedDeletion === true,
    sortBy: input.SortBy ?? 'created-date',
    sortOrder: input.SortOrder ?? 'asc',
  };
  const key = SORT_KEYS[params.sortBy];
  const sign = params.sortOrder === 'desc' ? -1 : 1;
  const records = applyFilters(
    ctx.listing.records(ctx.store, ctx.accountId, ctx.region, ctx.now).filter((r) => params.planned || r.deletedDate === undefined),
    params.filters,
  ).sort((a, b) => {
    const ka = key(a);
    const kb = key(b);
    return (ka < kb ? -1 : ka > kb ? 1 : 0) * sign;
  });
  const offset = input.NextToken === undefined ? 0 : ctx.pages.decode(input.NextToken, params);
  const slice = page(records, offset, input.MaxResults ?? 100);
  return {
    SecretList: slice.items.map((r) => renderSecret(ctx, r, true)),
    NextToken: slice.next !== undefined ? ctx.pages.encode(slice.next, params) : undefined,
  };
};
