import { definePath, param } from '../kernel/request.js';
import { sysErrors } from './errors.js';
import { normaliseMountPath } from './mount-table.js';
import { applyTune, tuneFields, tuneView, type TuneDeps } from './tune.js';

/** `sys/auth/:path/tune` (sudo): read and change an auth method's tuning (lease TTLs, token type, description). */
export const authTunePath = (deps: TuneDeps) =>
  definePath({
    pattern: 'auth/:path+/tune',
    params: { path: param.rest() },
    injector: true,
    sudo: true,
    operations: (op) => {
      const mountAt = (raw: string) => {
        const path = `auth/${normaliseMountPath(raw)}`;
        const m = deps.mounts.get(path);
        if (!m) throw sysErrors.noAuthSysView(path);
        return m;
      };
      return {
        read: op({
          summary: 'Reads the tuning of an auth method.',
          operationId: 'auth-read-tuning-information',
          handler: async (req) => ({ data: tuneView(deps, mountAt(req.params.path)) }),
        }),
        write: op({
          summary: 'Tunes an auth method.',
          operationId: 'auth-tune-configuration-parameters',
          fields: tuneFields,
          handler: async (req) => applyTune(deps, mountAt(req.params.path), req.data),
        }),
      };
    },
  });
