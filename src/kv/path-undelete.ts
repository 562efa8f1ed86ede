import { vInts } from '../kernel/fields.js';
import { definePath, param } from '../kernel/request.js';
import type { KvV2Engine } from './engine.js';
import { applyToVersions } from './versions.js';

const SUMMARY = 'Restores the listed soft-deleted versions of a secret.';

/** `<mount>/undelete/<path>` with `{"versions": [...]}`. */
export const undeletePath = (engine: KvV2Engine) =>
  definePath({
    pattern: 'undelete/:path+',
    params: { path: param.rest() },
    description: SUMMARY,
    operations: (op) => ({
      write: op({
        summary: SUMMARY,
        operationId: 'kv-v2-undelete-versions',
        fields: { versions: vInts() },
        handler: async (req) => applyToVersions(engine, 'undelete', req),
      }),
    }),
  });
