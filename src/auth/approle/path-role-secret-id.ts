import { z } from 'zod';
import { notFound } from '../../kernel/errors.js';
import { vDuration, vInt, vString, vStrings } from '../../kernel/fields.js';
import { definePath, type LogicalRequest, type LogicalResponse, type PathSpec } from '../../kernel/request.js';
import { storageOf, type AuthMethodDeps } from '../login/deps.js';
import { approleErrors } from './errors.js';
import { readRole, roleNameParam, type StoredRole } from './roles.js';
import {
  createSecretId,
  deleteSecretId,
  listSecretIdAccessors,
  parseMetadata,
  readSecretId,
  secretIdView,
} from './secret-ids.js';

/** What a secret ID is made with (`secret-id` and `custom-secret-id`). */
export const secretIdFields = {
  metadata: z.union([z.string(), z.record(z.string(), z.unknown())]),
  cidr_list: vStrings(),
  token_bound_cidrs: vStrings(),
  num_uses: vInt(),
  ttl: vDuration(),
};

export const secretIdResponse = z.object({
  secret_id: z.string(),
  secret_id_accessor: z.string(),
  secret_id_ttl: z.number().int(),
  secret_id_num_uses: z.number().int(),
});

export const secretIdLookupResponse = z.object({
  cidr_list: z.array(z.string()),
  creation_time: z.string(),
  expiration_time: z.string(),
  last_updated_time: z.string(),
  metadata: z.record(z.string(), z.string()),
  secret_id_accessor: z.string(),
  secret_id_num_uses: z.number().int(),
  secret_id_ttl: z.number().int(),
  token_bound_cidrs: z.array(z.string()),
});

/** The role a secret-ID request is about, or Vault's 404 naming it. */
export async function roleFor(deps: AuthMethodDeps, req: LogicalRequest<unknown, { role_name: string }>): Promise<StoredRole> {
  const role = await readRole(storageOf(deps, req.mount), req.params.role_name);
  if (!role) throw approleErrors.roleMissing(req.params.role_name);
  return role;
}

/** Makes a secret ID for the request's role; the answer is the only time the secret ID is shown. */
export async function issueSecretId(
  deps: AuthMethodDeps,
  req: LogicalRequest<{ [K in keyof typeof secretIdFields]?: z.output<(typeof secretIdFields)[K]> }, { role_name: string }>,
  secretId?: string,
): Promise<LogicalResponse> {
  const role = await roleFor(deps, req);
  const { secretId: id, entry } = await createSecretId(
    storageOf(deps, req.mount),
    role,
    { secretId, metadata: parseMetadata(req.data.metadata), cidr_list: req.data.cidr_list, token_bound_cidrs: req.data.token_bound_cidrs, num_uses: req.data.num_uses, ttl: req.data.ttl },
    req.mount,
    deps.clock(),
    deps.leaseTtls.maxTtl,
  );
  return {
    data: { secret_id: id, secret_id_accessor: entry.secret_id_accessor, secret_id_ttl: entry.secret_id_ttl, secret_id_num_uses: entry.secret_id_num_uses },
  };
}

/** `role/:role_name/secret-id`: generate a secret ID; list the accessors of a role's secret IDs. */
const secretIdPath = (deps: AuthMethodDeps) =>
  definePath({
    pattern: 'role/:role_name/secret-id',
    params: { role_name: roleNameParam() },
    operations: (op) => ({
      write: op({
        summary: 'Generates a secret ID for a role.',
        operationId: 'app-role-write-secret-id',
        fields: secretIdFields,
        response: secretIdResponse,
        handler: async (req) => issueSecretId(deps, req),
      }),
      list: op({
        summary: "Lists the accessors of a role's secret IDs.",
        operationId: 'app-role-list-secret-ids',
        response: z.object({ keys: z.array(z.string()) }),
        handler: async (req) => {
          const storage = storageOf(deps, req.mount);
          if (!(await readRole(storage, req.params.role_name))) throw approleErrors.roleMissingForList(req.params.role_name);
          const keys = await listSecretIdAccessors(storage, req.params.role_name);
          if (keys.length === 0) throw notFound();
          return { data: { keys } };
        },
      }),
    }),
  });

/** `role/:role_name/secret-id/lookup`: a secret ID's properties; an unknown secret ID answers 204, as in Vault. */
const secretIdLookupPath = (deps: AuthMethodDeps) =>
  definePath({
    pattern: 'role/:role_name/secret-id/lookup',
    params: { role_name: roleNameParam() },
    operations: (op) => ({
      write: op({
        summary: 'Reads the properties of a secret ID.',
        operationId: 'app-role-look-up-secret-id',
        fields: { secret_id: vString() },
        response: secretIdLookupResponse,
        handler: async (req) => {
          if (!req.data.secret_id) throw approleErrors.missingSecretId();
          const role = await roleFor(deps, req);
          const storage = storageOf(deps, req.mount);
          const entry = await readSecretId(storage, role.name, await storage.hmac(req.data.secret_id), deps.clock());
          return entry ? { data: secretIdView(entry) } : undefined;
        },
      }),
    }),
  });

/** `role/:role_name/secret-id/destroy`: destroys a secret ID (204 whether or not it existed). */
const secretIdDestroyPath = (deps: AuthMethodDeps) =>
  definePath({
    pattern: 'role/:role_name/secret-id/destroy',
    params: { role_name: roleNameParam() },
    operations: (op) => {
      const destroy = (operationId: string) =>
        op({
        summary: 'Destroys a secret ID.',
        operationId,
        fields: { secret_id: vString() },
        handler: async (req) => {
          if (!req.data.secret_id) throw approleErrors.missingSecretId();
          const role = await roleFor(deps, req);
          const storage = storageOf(deps, req.mount);
          const hmac = await storage.hmac(req.data.secret_id);
          const entry = await readSecretId(storage, role.name, hmac, deps.clock());
          if (entry) await deleteSecretId(storage, role.name, hmac, entry);
        },
      });
      return { write: destroy('app-role-destroy-secret-id'), delete: destroy('app-role-destroy-secret-id2') };
    },
  });

export const roleSecretIdPaths = (deps: AuthMethodDeps): PathSpec[] => [
  secretIdLookupPath(deps),
  secretIdDestroyPath(deps),
  secretIdPath(deps),
];
