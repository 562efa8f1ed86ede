import { notFound } from '../kernel/errors.js';
import { vBool, vDuration, vInt, vKeyPairs, vMap } from '../kernel/fields.js';
import { definePath, param, type LogicalRequest, type LogicalResponse, type PathSpec } from '../kernel/request.js';
import type { KvV2Engine, MetadataPatch } from './engine.js';
import {
  ROOT_WARNING,
  invalidPathResponse,
  invalidPathWarning,
  listSchema,
  metadataData,
  metadataSchema,
} from './render.js';

/**
 * `<mount>/metadata/<path>`: list keys, read a secret's version table, write and patch its
 * key-level settings, delete it with all versions (kv-v2.md §5). Listing works on the mount
 * root (`metadata/`); every other operation needs a secret path that does not end in `/`.
 */
export function metadataPath(engine: KvV2Engine): PathSpec {
  /** The answer when the request does not name a secret, or undefined when it does. */
  const notASecret = (req: LogicalRequest): LogicalResponse | undefined => {
    if (req.params.path === '') return invalidPathResponse(req, ROOT_WARNING);
    if (req.trailingSlash) return invalidPathResponse(req, invalidPathWarning(req.operation));
    return undefined;
  };
  const settingFields = { max_versions: vInt(), cas_required: vBool(), delete_version_after: vDuration() };

  return definePath({
    pattern: 'metadata/:path*',
    params: { path: param.optionalRest() },
    description: 'Configures settings for a secret and reads its versions.',
    exists: (req) => (req.params.path === '' ? Promise.resolve(false) : engine.exists(req.mount, req.params.path)),
    operations: (op) => ({
      list: op({
        summary: 'Lists the secrets and folders directly under a folder.',
        operationId: 'kv-v2-list',
        fields: { exclude_deleted: vBool() },
        response: listSchema,
        handler: async (req) => {
          const keys = await engine.list(req.mount, req.params.path, req.data.exclude_deleted ?? false);
          if (keys.length === 0) throw notFound();
          return { data: { keys } };
        },
      }),
      read: op({
        summary: "Reads a secret's metadata and version table.",
        operationId: 'kv-v2-read-metadata',
        response: metadataSchema,
        handler: async (req) => {
          const refused = notASecret(req);
          if (refused) return refused;
          const meta = await engine.metadata(req.mount, req.params.path);
          if (!meta) throw notFound();
          return { data: metadataData(meta) };
        },
      }),
      write: op({
        summary: 'Creates or updates the key-level settings of a secret; only supplied fields change.',
        operationId: 'kv-v2-write-metadata',
        fields: { ...settingFields, custom_metadata: vKeyPairs() },
        handler: async (req) => {
          const refused = notASecret(req);
          if (refused) return refused;
          const warnings = await engine.writeMetadata(req.mount, req.params.path, {
            maxVersions: req.data.max_versions,
            casRequired: req.data.cas_required,
            deleteVersionAfter: req.data.delete_version_after,
            custom: req.data.custom_metadata,
          });
          return warnings.length > 0 ? { data: null, warnings } : undefined;
        },
      }),
      patch: op({
        summary: 'Merge-patches the key-level settings of a secret; null resets a setting or removes a custom_metadata key.',
        operationId: 'kv-v2-patch-metadata',
        fields: { ...settingFields, custom_metadata: vMap() },
        handler: async (req) => {
          const refused = notASecret(req);
          if (refused) return refused;
          const { found, warnings } = await engine.patchMetadata(req.mount, req.params.path, metadataPatch(req.raw, req.data));
          if (!found) return { status: 404, empty: true };
          return warnings.length > 0 ? { data: null, warnings } : undefined;
        },
      }),
      delete: op({
        summary: 'Deletes a secret: its metadata and every version.',
        operationId: 'kv-v2-delete-metadata',
        handler: async (req) => {
          const refused = notASecret(req);
          if (refused) return refused;
          await engine.deleteMetadata(req.mount, req.params.path);
        },
      }),
    }),
  });
}

/** A merge-patch document: a member set to `null` means "reset", an absent one "leave as is". */
function metadataPatch(
  raw: Record<string, unknown>,
  data: { max_versions?: number; cas_required?: boolean; delete_version_after?: number; custom_metadata?: Record<string, unknown> },
): MetadataPatch {
  const pick = <T>(name: string, value: T | undefined): T | null | undefined =>
    raw[name] === null ? null : value;
  let custom: MetadataPatch['custom'];
  if (raw.custom_metadata === null) custom = null;
  else if (data.custom_metadata) {
    custom = {};
    for (const [k, v] of Object.entries(data.custom_metadata)) {
      custom[k] = v === null ? null : typeof v === 'string' ? v : JSON.stringify(v);
    }
  }
  return {
    maxVersions: pick('max_versions', data.max_versions),
    casRequired: pick('cas_required', data.cas_required),
    deleteVersionAfter: pick('delete_version_after', data.delete_version_after),
    custom,
  };
}
