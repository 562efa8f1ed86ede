import { vBool, vDuration, vInt } from '../kernel/fields.js';
import { definePath, type PathSpec } from '../kernel/request.js';
import type { KvV2Engine } from './engine.js';
import { kvErrors } from './errors.js';
import { configData, configSchema } from './render.js';

/** `<mount>/config`: mount-wide retention, CAS and expiry settings (kv-v2.md §3). */
export function configPath(engine: KvV2Engine): PathSpec {
  return definePath({
    pattern: 'config',
    description: 'Configures settings for the KV v2 mount.',
    operations: (op) => ({
      read: op({
        summary: 'Reads the backend-level settings of the KV v2 mount.',
        operationId: 'kv-v2-read-configuration',
        response: configSchema,
        handler: async (req) => ({ data: configData(await engine.config(req.mount)) }),
      }),
      write: op({
        summary: 'Sets the backend-level settings of the KV v2 mount; only supplied fields change.',
        operationId: 'kv-v2-configure',
        fields: {
          max_versions: vInt(),
          cas_required: vBool(),
          delete_version_after: vDuration({ allowNegative: true }),
        },
        handler: async (req) => {
          if (req.data.max_versions !== undefined && req.data.max_versions < 0) throw kvErrors.negative('max_versions');
          await engine.setConfig(req.mount, {
            maxVersions: req.data.max_versions,
            casRequired: req.data.cas_required,
            deleteVersionAfter: req.data.delete_version_after,
          });
        },
      }),
    }),
  });
}
