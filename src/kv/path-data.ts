import { notFound } from '../kernel/errors.js';
import { vInt, vMap } from '../kernel/fields.js';
import { definePath, param, type PathSpec } from '../kernel/request.js';
import type { KvV2Engine } from './engine.js';
import { kvErrors } from './errors.js';
import {
  dataReadSchema,
  goneResponse,
  invalidPathResponse,
  invalidPathWarning,
  readAnswer,
  versionMetadata,
  versionMetadataSchema,
} from './render.js';

/**
 * `<mount>/data/<path>`: read a version, write a new one (with check-and-set), merge-patch
 * the current one, soft-delete the latest (kv-v2.md §4.1–4.4). Secret paths never end in
 * `/`; such a request is one of the mount's invalid paths.
 */
export function dataPath(engine: KvV2Engine): PathSpec {
  const writeFields = { data: vMap(), options: vMap() };
  return definePath({
    pattern: 'data/:path+',
    params: { path: param.rest() },
    description: 'Write, patch, read, and delete data in the KV v2 secrets engine.',
    exists: (req) => engine.existsFor(req, req.mount, req.params.path),
    operations: (op) => ({
      read: op({
        summary: 'Reads a version of a secret (the current one unless ?version=N).',
        operationId: 'kv-v2-read',
        fields: { version: vInt() },
        response: dataReadSchema,
        handler: async (req) => {
          if (req.trailingSlash) return invalidPathResponse(req, invalidPathWarning(req.operation));
          const out = await engine.read(req.mount, req.params.path, req.data.version ?? 0);
          if (out.kind === 'missing') throw notFound();
          if (out.kind === 'gone') return goneResponse({ data: null, metadata: versionMetadata(out.view) });
          return { data: readAnswer(out.data, out.view) };
        },
      }),
      write: op({
        summary: 'Creates a new version of a secret; options.cas makes it conditional.',
        operationId: 'kv-v2-write',
        fields: writeFields,
        response: versionMetadataSchema,
        handler: async (req) => {
          if (req.trailingSlash) return invalidPathResponse(req, invalidPathWarning(req.operation));
          if (req.data.data === undefined) throw kvErrors.noData();
          const view = await engine.write(req.mount, req.params.path, req.data.data, req.data.options, req);
          return { data: versionMetadata(view) };
        },
      }),
      patch: op({
        summary: 'Creates a new version by applying a JSON merge patch to the current one.',
        operationId: 'kv-v2-patch',
        fields: writeFields,
        response: versionMetadataSchema,
        handler: async (req) => {
          if (req.trailingSlash) return invalidPathResponse(req, invalidPathWarning(req.operation));
          if (req.data.data === undefined) throw kvErrors.noData();
          const out = await engine.patch(req.mount, req.params.path, req.data.data, req.data.options);
          // Vault answers a patch of a missing secret with a bare 404: no body at all.
          if (out.kind === 'missing') return { status: 404, empty: true };
          if (out.kind === 'gone') return goneResponse(versionMetadata(out.view));
          return { data: versionMetadata(out.view) };
        },
      }),
      delete: op({
        summary: 'Soft-deletes the current version of a secret.',
        operationId: 'kv-v2-delete',
        handler: async (req) => {
          if (req.trailingSlash) return invalidPathResponse(req, invalidPathWarning(req.operation));
          await engine.deleteLatest(req.mount, req.params.path);
        },
      }),
    }),
  });
}
