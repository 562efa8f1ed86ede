import { vString } from '../../kernel/fields.js';
import { definePath, type LogicalRequest, type PathSpec } from '../../kernel/request.js';
import { storageOf, type AuthMethodDeps } from '../login/deps.js';
import { approleErrors } from './errors.js';
import { roleFor, secretIdLookupResponse } from './path-role-secret-id.js';
import { roleNameParam } from './roles.js';
import { deleteSecretId, secretIdByAccessor, secretIdView } from './secret-ids.js';

/** The secret ID an accessor names, or Vault's 404 (naming the field, not the accessor). */
async function byAccessor(deps: AuthMethodDeps, req: LogicalRequest<{ secret_id_accessor?: string }, { role_name: string }>) {
  const accessor = req.data.secret_id_accessor;
  if (!accessor) throw approleErrors.missingAccessor();
  const role = await roleFor(deps, req);
  const found = await secretIdByAccessor(storageOf(deps, req.mount), role.name, accessor, deps.clock());
  if (!found) throw approleErrors.unknownAccessor();
  return { role, ...found };
}

/** `role/:role_name/secret-id-accessor/lookup`: a secret ID's properties, by its accessor. */
const accessorLookupPath = (deps: AuthMethodDeps) =>
  definePath({
    pattern: 'role/:role_name/secret-id-accessor/lookup',
    params: { role_name: roleNameParam() },
    operations: (op) => ({
      write: op({
        summary: 'Reads the properties of a secret ID by its accessor.',
        operationId: 'app-role-look-up-secret-id-by-accessor',
        fields: { secret_id_accessor: vString() },
        response: secretIdLookupResponse,
        handler: async (req) => ({ data: secretIdView((await byAccessor(deps, req)).entry) }),
      }),
    }),
  });

/** `role/:role_name/secret-id-accessor/destroy`: destroys a secret ID by its accessor. */
const accessorDestroyPath = (deps: AuthMethodDeps) =>
  definePath({
    pattern: 'role/:role_name/secret-id-accessor/destroy',
    params: { role_name: roleNameParam() },
    operations: (op) => {
      const destroy = (operationId: string) =>
        op({
        summary: 'Destroys a secret ID by its accessor.',
        operationId,
        fields: { secret_id_accessor: vString() },
        handler: async (req) => {
          const { role, hmac, entry } = await byAccessor(deps, req);
          await deleteSecretId(storageOf(deps, req.mount), role.name, hmac, entry);
        },
      });
      return { write: destroy('app-role-destroy-secret-id-by-accessor'), delete: destroy('app-role-destroy-secret-id-by-accessor2') };
    },
  });

export const roleSecretIdAccessorPaths = (deps: AuthMethodDeps): PathSpec[] => [accessorLookupPath(deps), accessorDestroyPath(deps)];
