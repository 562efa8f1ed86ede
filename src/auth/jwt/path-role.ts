import { z } from 'zod';
import { notFound } from '../../kernel/errors.js';
import { vBool, vDuration, vInt, vString, vStrings } from '../../kernel/fields.js';
import { definePath, type PathSpec } from '../../kernel/request.js';
import { keysResponse, listStored, storageOf } from '../login/deps.js';
import { tokenFieldShape, tokenFieldsResponse, tokenFieldsView, upgradeLegacyFields } from '../login/token-fields.js';
import { vJsonObject, vStringPairs } from './fields.js';
import type { JwtDeps } from './login.js';
import { JWT_ROLE_LEGACY_FIELDS, jwtRoleNameParam, jwtRoleView, planJwtRole, readJwtRole } from './roles.js';

/** `role/`: the names of every role. */
const roleListPath = (deps: JwtDeps) =>
  definePath({
    pattern: 'role',
    operations: (op) => ({
      list: op({
        summary: 'Lists the roles.',
        operationId: 'jwt-list-roles',
        response: keysResponse,
        handler: async (req) => listStored(deps, req.mount, 'role/'),
      }),
    }),
  });

const signedSeconds = () => vDuration({ allowNegative: true });

/** `role/:name`: create, update, read and delete a role. CI roles need `role_type=jwt` (the default is `oidc`). */
const rolePath = (deps: JwtDeps) =>
  definePath({
    pattern: 'role/:name',
    params: { name: jwtRoleNameParam() },
    exists: async (req) => (await readJwtRole(storageOf(deps, req.mount), req.params.name)) !== undefined,
    operations: (op) => ({
      read: op({
        summary: 'Reads a role.',
        operationId: 'jwt-read-role',
        response: z.looseObject({
          role_type: z.string(),
          bound_audiences: z.array(z.string()),
          bound_subject: z.string(),
          bound_claims_type: z.string(),
          user_claim: z.string(),
          clock_skew_leeway: z.number().int(),
          expiration_leeway: z.number().int(),
          not_before_leeway: z.number().int(),
          ...tokenFieldsResponse,
        }),
        handler: async (req) => {
          const role = await readJwtRole(storageOf(deps, req.mount), req.params.name);
          if (!role) throw notFound();
          return { data: { ...jwtRoleView(role), ...tokenFieldsView(role.settings) } };
        },
      }),
      write: op({
        summary: 'Creates or updates a role.',
        operationId: 'jwt-write-role',
        fields: {
          role_type: vString(),
          bound_audiences: vStrings(),
          bound_subject: vString(),
          bound_claims: vJsonObject(),
          bound_claims_type: vString(),
          user_claim: vString(),
          user_claim_json_pointer: vBool(),
          groups_claim: vString(),
          claim_mappings: vStringPairs(),
          clock_skew_leeway: signedSeconds(),
          expiration_leeway: signedSeconds(),
          not_before_leeway: signedSeconds(),
          allowed_redirect_uris: vStrings(),
          oidc_scopes: vStrings(),
          verbose_oidc_logging: vBool(),
          max_age: vDuration(),
          ...tokenFieldShape,
          // Deprecated spellings of the token fields (the token_ names win when both are given).
          policies: vStrings(),
          num_uses: vInt(),
          ttl: signedSeconds(),
          max_ttl: signedSeconds(),
          period: signedSeconds(),
          bound_cidrs: vStrings(),
        },
        handler: async (req) => {
          const storage = storageOf(deps, req.mount);
          const { role, warnings } = planJwtRole(await readJwtRole(storage, req.params.name), {
            ...req.data,
            token: upgradeLegacyFields(req.data, JWT_ROLE_LEGACY_FIELDS),
          });
          await storage.commit([storage.put(`role/${req.params.name}`, role)]);
          return warnings.length > 0 ? { warnings } : undefined;
        },
      }),
      delete: op({
        summary: 'Deletes a role.',
        operationId: 'jwt-delete-role',
        handler: async (req) => {
          const storage = storageOf(deps, req.mount);
          await storage.commit([storage.delete(`role/${req.params.name}`)]);
        },
      }),
    }),
  });

export const rolePaths = (deps: JwtDeps): PathSpec[] => [roleListPath(deps), rolePath(deps)];
