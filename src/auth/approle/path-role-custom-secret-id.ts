import { vString } from '../../kernel/fields.js';
import { definePath } from '../../kernel/request.js';
import type { AuthMethodDeps } from '../login/deps.js';
import { approleErrors } from './errors.js';
import { issueSecretId, secretIdFields, secretIdResponse } from './path-role-secret-id.js';
import { roleNameParam } from './roles.js';

/** `role/:role_name/custom-secret-id`: registers a secret ID chosen by the caller. */
export const roleCustomSecretIdPath = (deps: AuthMethodDeps) =>
  definePath({
    pattern: 'role/:role_name/custom-secret-id',
    params: { role_name: roleNameParam() },
    operations: (op) => ({
      write: op({
        summary: 'Registers a custom secret ID for a role.',
        operationId: 'app-role-write-custom-secret-id',
        fields: { secret_id: vString(), ...secretIdFields },
        response: secretIdResponse,
        handler: async (req) => {
          if (!req.data.secret_id) throw approleErrors.missingSecretId();
          return issueSecretId(deps, req, req.data.secret_id);
        },
      }),
    }),
  });
