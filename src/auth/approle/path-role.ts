import { z } from 'zod';
import { notFound } from '../../kernel/errors.js';
import { vBool, vDuration, vInt, vString, vStrings } from '../../kernel/fields.js';
import { definePath, type PathSpec } from '../../kernel/request.js';
import { keysResponse, listStored, storageOf, type AuthMethodDeps } from '../login/deps.js';
import { tokenFieldShape, tokenFieldsResponse, tokenFieldsView, upgradeLegacyFields } from '../login/token-fields.js';
import { deleteRole, planRole, readRole, roleNameParam, roleView, saveRole } from './roles.js';

/** `role/`: the names of every role. */
const roleListPath = (deps: AuthMethodDeps) =>
  definePath({
    pattern: 'role',
    operations: (op) => ({
      list: op({
        summary: 'Lists the roles.',
        operationId: 'app-role-list-roles',
        response: keysResponse,
        handler: async (req) => listStored(deps, req.mount, 'role/'),
      }),
    }),
  });

/** `role/:role_name`: create, update, read and delete a role. */
const rolePath = (deps: AuthMethodDeps) =>
  definePath({
    pattern: 'role/:role_name',
    params: { role_name: roleNameParam() },
    exists: async (req) => (await readRole(storageOf(deps, req.mount), req.params.role_name)) !== undefined,
    operations: (op) => ({
      read: op({
        summary: 'Reads a role.',
        operationId: 'app-role-read-role',
        response: z.object({
          bind_secret_id: z.boolean(),
          local_secret_ids: z.boolean(),
          secret_id_bound_cidrs: z.array(z.string()),
          secret_id_num_uses: z.number().int(),
          secret_id_ttl: z.number().int(),
          ...tokenFieldsResponse,
        }),
        handler: async (req) => {
          const role = await readRole(storageOf(deps, req.mount), req.params.role_name);
          if (!role) throw notFound();
          return { data: { ...roleView(role), ...tokenFieldsView(role.settings) } };
        },
      }),
      write: op({
        summary: 'Creates or updates a role.',
        operationId: 'app-role-write-role',
        fields: {
          role_id: vString(),
          bind_secret_id: vBool(),
          secret_id_bound_cidrs: vStrings(),
          secret_id_num_uses: vInt(),
          secret_id_ttl: vDuration(),
          local_secret_ids: vBool(),
          ...tokenFieldShape,
          // Deprecated spellings (the token_ names win when both are given).
          bound_cidr_list: vStrings(),
          policies: vStrings(),
          period: vDuration({ allowNegative: true }),
        },
        handler: async (req) => {
          const storage = storageOf(deps, req.mount);
          const name = req.params.role_name;
          const { role, warnings } = planRole(
            name,
            await readRole(storage, name),
            {
              role_id: req.data.role_id,
              bind_secret_id: req.data.bind_secret_id,
              secret_id_bound_cidrs: req.data.secret_id_bound_cidrs ?? req.data.bound_cidr_list,
              secret_id_num_uses: req.data.secret_id_num_uses,
              secret_id_ttl: req.data.secret_id_ttl,
              local_secret_ids: req.data.local_secret_ids,
              token: upgradeLegacyFields(req.data, { policies: 'token_policies', period: 'token_period' }),
            },
            req.mount,
            deps.leaseTtls.maxTtl,
          );
          await saveRole(storage, role);
          return warnings.length > 0 ? { warnings } : undefined;
        },
      }),
      delete: op({
        summary: 'Deletes a role and every secret ID it has.',
        operationId: 'app-role-delete-role',
        handler: async (req) => deleteRole(storageOf(deps, req.mount), req.params.role_name),
      }),
    }),
  });

export const rolePaths = (deps: AuthMethodDeps): PathSpec[] => [roleListPath(deps), rolePath(deps)];
