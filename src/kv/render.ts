import { z } from 'zod';
import { envelope } from '../kernel/envelope.js';
import { deepFreeze } from '../kernel/immutable.js';
import type { LogicalRequest, LogicalResponse } from '../kernel/request.js';
import type { VersionView } from './engine.js';
import { formatDuration, formatTime } from './format.js';
import type { StoredConfig, StoredMeta } from './layout.js';

/**
 * How KV answers look on the wire: the response schemas (which double as allow-lists of what
 * may leave the server) and the renderers that fill them from domain values.
 */

const customMetadata = z.record(z.string(), z.string()).nullable();

/** A version's metadata, as the write response and `data.metadata` of reads carry it. */
export const versionMetadataSchema = z.object({
  created_time: z.string(),
  custom_metadata: customMetadata,
  deletion_time: z.string(),
  destroyed: z.boolean(),
  version: z.number().int(),
});

export const dataReadSchema = z.object({
  data: z.record(z.string(), z.unknown()).nullable(),
  metadata: versionMetadataSchema,
});

export const subkeysSchema = z.object({
  subkeys: z.record(z.string(), z.unknown()).nullable(),
  metadata: versionMetadataSchema,
});

export const configSchema = z.object({
  cas_required: z.boolean(),
  delete_version_after: z.string(),
  max_versions: z.number().int(),
});

export const metadataSchema = z.object({
  cas_required: z.boolean(),
  created_time: z.string(),
  current_version: z.number().int(),
  custom_metadata: customMetadata,
  delete_version_after: z.string(),
  max_versions: z.number().int(),
  oldest_version: z.number().int(),
  updated_time: z.string(),
  versions: z.record(
    z.string(),
    z.object({ created_time: z.string(), deletion_time: z.string(), destroyed: z.boolean() }),
  ),
});

export const listSchema = z.object({ keys: z.array(z.string()) });

/** Read answers by the data object they answer with (see `readAnswer`). */
const readAnswers = new WeakMap<object, Readonly<z.infer<typeof dataReadSchema>>>();

/**
 * The `data` of a read that found version `view` with `data`. The engine hands out the same
 * data object for as long as a secret's current version is unchanged (decoded once from the
 * read cache), so the answer for it is built once, deep-frozen (over a copy: the engine's
 * object stays its own), and handed out again; the HTTP layer validates and serialises a
 * frozen answer once (`dispatch.ts`).
 */
export function readAnswer(data: Record<string, unknown>, view: VersionView): Readonly<z.infer<typeof dataReadSchema>> {
  let answer = readAnswers.get(data);
  if (!answer) {
    const built: z.infer<typeof dataReadSchema> = { data, metadata: versionMetadata(view) };
    answer = deepFreeze(JSON.parse(JSON.stringify(built)) as typeof built);
    readAnswers.set(data, answer);
  }
  return answer;
}

export function versionMetadata(view: VersionView): z.infer<typeof versionMetadataSchema> {
  return {
    created_time: formatTime(view.created),
    custom_metadata: view.custom,
    deletion_time: formatTime(view.deletion),
    destroyed: view.destroyed,
    version: view.version,
  };
}

export function configData(config: StoredConfig): z.infer<typeof configSchema> {
  return {
    cas_required: config.casRequired,
    delete_version_after: formatDuration(config.deleteVersionAfter),
    max_versions: config.maxVersions,
  };
}

export function metadataData(meta: StoredMeta): z.infer<typeof metadataSchema> {
  const versions: Record<string, { created_time: string; deletion_time: string; destroyed: boolean }> = {};
  for (const [n, v] of Object.entries(meta.versions)) {
    versions[n] = { created_time: formatTime(v.created), deletion_time: formatTime(v.deletion), destroyed: v.destroyed };
  }
  return {
    cas_required: meta.casRequired,
    created_time: formatTime(meta.created),
    current_version: meta.current,
    custom_metadata: meta.custom,
    delete_version_after: formatDuration(meta.deleteVersionAfter),
    max_versions: meta.maxVersions,
    oldest_version: meta.oldest,
    updated_time: formatTime(meta.updated),
    versions,
  };
}

/**
 * Vault's 404 that still carries a full envelope: a deleted or destroyed version (clients
 * print its metadata), with `mount_type` empty as Vault renders it.
 */
export function goneResponse(data: Record<string, unknown>): LogicalResponse {
  return { status: 404, data, mountType: '' };
}

export const ROOT_WARNING = 'Non-listing operations on the root of a K/V v2 mount are not supported.';

const CLI_VERB: Record<LogicalRequest['operation'], string> = {
  create: 'put',
  update: 'put',
  patch: 'patch',
  read: 'get',
  list: 'list',
  delete: 'delete',
};

export const invalidPathWarning = (operation: LogicalRequest['operation']): string =>
  "Invalid path for a versioned K/V secrets engine. See the API docs for the appropriate API endpoints to use. If using the Vault CLI, use 'vault kv " +
  `${CLI_VERB[operation]}' for this operation.`;

/**
 * The 404 envelope with `data: null` and one warning that Vault answers for paths a KV v2
 * mount does not serve (conventions §7.3). Rendered whole here, like Vault's own raw
 * response, so that no further warning (ignored parameters) is appended to it.
 */
export function invalidPathResponse(req: LogicalRequest<unknown, unknown>, warning: string): LogicalResponse {
  return { status: 404, raw: envelope(req.requestId, '', { data: null, warnings: [warning] }) };
}
