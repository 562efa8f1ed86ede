import { definePath, param } from '../kernel/request.js';
import { sysErrors } from './errors.js';
import { existingMount } from './mount-rules.js';
import { normaliseMountPath } from './mount-table.js';
import { applyTune, tuneFields, tuneView, type TuneDeps } from './tune.js';

/**
 * `sys/mounts/:path/tune` (an injector path): read and change a mount's tuning. The CLI's
 * `vault kv enable-versioning` sends `sys/mounts/<mount>//tune`; the wire layer folds the
 * double slash, so it lands here too. `vault auth tune` comes here as well, as
 * `sys/mounts/auth/<path>/tune`; a missing auth mount gets the message Vault gives it.
 */
export const mountsTunePath = (deps: TuneDeps) =>
  definePath({
    pattern: 'mounts/:path+/tune',
    params: { path: param.rest() },
    injector: true,
    operations: (op) => {
      const mountAt = (raw: string) => {
        const path = normaliseMountPath(raw);
        if (path.startsWith('auth/') && !deps.mounts.get(path)) throw sysErrors.noAuthSysView(path);
        return existingMount(deps.mounts, raw);
      };
      return {
        read: op({
          summary: 'Reads the tuning of a secrets engine.',
          operationId: 'mounts-read-tuning-information',
          handler: async (req) => ({ data: tuneView(deps, mountAt(req.params.path)) }),
        }),
        write: op({
          summary: 'Tunes a secrets engine.',
          operationId: 'mounts-tune-configuration-parameters',
          fields: tuneFields,
          handler: async (req) => applyTune(deps, mountAt(req.params.path), req.data),
        }),
      };
    },
  });
