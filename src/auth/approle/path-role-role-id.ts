import { z } from 'zod';
import { notFound } from '../../kernel/errors.js';
import { vString } from '../../kernel/fields.js';
import { definePath } from '../../kernel/request.js';
import { storageOf, type AuthMethodDeps } from '../login/deps.js';
import { approleErrors } from './errors.js';
import { planRole, readRole, roleNameParam, saveRole } from './roles.js';

/** `role/:role_name/role-id`: read or set a role's role ID. */
export const roleRoleIdPath = (deps: AuthMethodDeps) =>
  definePath({
    pattern: 'role/:role_name/role-id',
    params: { role_name: roleNameParam() },
    operations: (op) => ({
      read: op({
        summary: "Reads a role's role ID.",
        operationId: 'app-role-read-role-id',
        response: z.object({ role_id: z.string() }),
        handler: async (req) => {
          const role = await readRole(storageOf(deps, req.mount), req.params.role_name);
          if (!role) throw notFound();
          return { data: { role_id: role.role_id } };
        },
      }),
      write: op({
        summary: "Sets a role's role ID.",
        operationId: 'app-role-write-role-id',
        fields: { role_id: vString() },
        handler: async (req) => {
          const storage = storageOf(deps, req.mount);
          const current = await readRole(storage, req.params.role_name);
          if (!current) throw approleErrors.roleMissing(req.params.role_name);
          if (!req.data.role_id) throw approleErrors.missingRoleId();
          const { role } = planRole(current.name, current, { role_id: req.data.role_id, token: {} }, req.mount, deps.leaseTtls.maxTtl);
          await saveRole(storage, role);
        },
      }),
    }),
  });
