import { vInts } from '../kernel/fields.js';
import { definePath, param } from '../kernel/request.js';
import type { KvV2Engine } from './engine.js';
import { applyToVersions } from './versions.js';

const SUMMARY = 'Soft-deletes the listed versions of a secret.';

/** `<mount>/delete/<path>` with `{"versions": [...]}`. */
export const deletePath = (engine: KvV2Engine) =>
  definePath({
    pattern: 'delete/:path+',
    params: { path: param.rest() },
    description: SUMMARY,
    operations: (op) => ({
      write: op({
        summary: SUMMARY,
        operationId: 'kv-v2-delete-versions',
        fields: { versions: vInts() },
        handler: async (req) => applyToVersions(engine, 'delete', req),
      }),
    }),
  });
