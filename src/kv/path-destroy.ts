import { vInts } from '../kernel/fields.js';
import { definePath, param } from '../kernel/request.js';
import type { KvV2Engine } from './engine.js';
import { applyToVersions } from './versions.js';

const SUMMARY = 'Permanently removes the data of the listed versions of a secret.';

/** `<mount>/destroy/<path>` with `{"versions": [...]}`. */
export const destroyPath = (engine: KvV2Engine) =>
  definePath({
    pattern: 'destroy/:path+',
    params: { path: param.rest() },
    description: SUMMARY,
    operations: (op) => ({
      write: op({
        summary: SUMMARY,
        operationId: 'kv-v2-destroy-versions',
        fields: { versions: vInts() },
        handler: async (req) => applyToVersions(engine, 'destroy', req),
      }),
    }),
  });
