import { randomUUID } from 'node:crypto';
import { invalidCidr } from '../../kernel/cidr.js';
import type { MountEntry } from '../../kernel/entries.js';
import { param } from '../../kernel/request.js';
import { withRetry } from '../../store/store.js';
import type { MountStorage } from '../login/mount-storage.js';
import { applyTokenFields, DEFAULT_TOKEN_SETTINGS, type TokenFieldInput, type TokenSettings } from '../login/token-fields.js';
import { goDuration } from '../token/rules.js';
import { approleErrors } from './errors.js';

/**
 * An AppRole role as stored under `role/<name>`. Its role ID is indexed under
 * `role-id/<hmac(role ID)>` so that a login finds the role without the role ID appearing in
 * a storage key.
 */
export interface StoredRole {
  name: string;
  role_id: string;
  bind_secret_id: boolean;
  secret_id_bound_cidrs: string[];
  /** 0 = unlimited. */
  secret_id_num_uses: number;
  /** Seconds; 0 = secret IDs never expire. */
  secret_id_ttl: number;
  local_secret_ids: boolean;
  settings: TokenSettings;
}

/** Vault's role names (GenericNameRegex), lower-cased. */
export const roleNameParam = () =>
  param
    .segment()
    .regex(/^\w(?:[\w.-]*\w)?$/)
    .transform((name) => name.toLowerCase());

/** What a role write may change (after field decoding and the legacy spellings). */
export interface RoleInput {
  role_id?: string;
  bind_secret_id?: boolean;
  secret_id_bound_cidrs?: string[];
  secret_id_num_uses?: number;
  secret_id_ttl?: number;
  local_secret_ids?: boolean;
  token: TokenFieldInput;
}

export async function readRole(storage: MountStorage, name: string): Promise<StoredRole | undefined> {
  return (await storage.getJson<StoredRole>(`role/${name}`))?.value;
}

/** The role a role ID belongs to; undefined for an unknown role ID. */
export async function roleByRoleId(storage: MountStorage, roleId: string): Promise<StoredRole | undefined> {
  const index = await storage.getJson<{ name: string }>(`role-id/${await storage.hmac(roleId)}`);
  if (!index) return undefined;
  const role = await readRole(storage, index.value.name);
  return role && role.role_id === roleId ? role : undefined;
}

/** Vault's rules for a role write over `current` (undefined: a new role); returns the role to store and any warnings. */
/** `systemMaxTtl`: the server's max lease TTL, what the mount's 0 stands for. */
export function planRole(
  name: string,
  current: StoredRole | undefined,
  input: RoleInput,
  mount: MountEntry,
  systemMaxTtl: number,
): { role: StoredRole; warnings: string[] } {
  if (Buffer.byteLength(name) > 4096) throw approleErrors.roleNameTooLong();
  const { settings, warnings } = applyTokenFields(current?.settings ?? DEFAULT_TOKEN_SETTINGS, input.token);
  if (current && input.local_secret_ids !== undefined && input.local_secret_ids !== current.local_secret_ids) {
    throw approleErrors.localSecretIdsImmutable();
  }
  if (input.secret_id_num_uses !== undefined && input.secret_id_num_uses < 0) throw approleErrors.negativeRoleUses();
  if (input.secret_id_bound_cidrs !== undefined && invalidCidr(input.secret_id_bound_cidrs) !== undefined) {
    throw approleErrors.invalidRoleCidrs();
  }
  const role: StoredRole = {
    name,
    role_id: input.role_id ?? current?.role_id ?? randomUUID(),
    bind_secret_id: input.bind_secret_id ?? current?.bind_secret_id ?? true,
    secret_id_bound_cidrs: input.secret_id_bound_cidrs ?? current?.secret_id_bound_cidrs ?? [],
    secret_id_num_uses: input.secret_id_num_uses ?? current?.secret_id_num_uses ?? 0,
    secret_id_ttl: input.secret_id_ttl ?? current?.secret_id_ttl ?? 0,
    local_secret_ids: current?.local_secret_ids ?? input.local_secret_ids ?? false,
    settings,
  };
  if (role.role_id.trim() === '') throw approleErrors.missingRoleId();
  // A role that needs neither a secret ID nor a network location would let anyone with the
  // (non-secret) role ID log in.
  if (!role.bind_secret_id && role.secret_id_bound_cidrs.length === 0 && settings.token_bound_cidrs.length === 0) {
    throw approleErrors.noConstraint();
  }
  const mountMax = mount.config.max_lease_ttl || systemMaxTtl;
  if (settings.token_period > mountMax) throw approleErrors.periodAboveMount(goDuration(settings.token_period), goDuration(mountMax));
  if (settings.token_max_ttl > mountMax) {
    warnings.push("token_max_ttl is greater than the backend mount's maximum TTL value; issued tokens' max TTL value will be truncated");
  }
  return { role, warnings };
}

/**
 * Stores a role and its role-ID index in one commit. The new index entry must not exist (or
 * already be this role's), so two roles can never share a role ID, however their writes race.
 */
export async function saveRole(storage: MountStorage, role: StoredRole): Promise<void> {
  await withRetry(async () => {
    const previous = await storage.getJson<StoredRole>(`role/${role.name}`);
    const indexKey = `role-id/${await storage.hmac(role.role_id)}`;
    const index = await storage.getJson<{ name: string }>(indexKey);
    if (index && index.value.name !== role.name) throw approleErrors.roleIdInUse();
    const ops = [storage.put(`role/${role.name}`, role), storage.put(indexKey, { name: role.name })];
    if (previous && previous.value.role_id !== role.role_id) ops.push(storage.delete(`role-id/${await storage.hmac(previous.value.role_id)}`));
    await storage.commit(ops, [storage.check(`role/${role.name}`, previous?.revision ?? 0), storage.check(indexKey, index?.revision ?? 0)]);
  });
}

/** Deletes a role with its role-ID index and every secret ID it has. */
export async function deleteRole(storage: MountStorage, name: string): Promise<void> {
  const role = await readRole(storage, name);
  if (!role) return;
  await storage.commit([
    storage.delete(`role/${name}`),
    storage.delete(`role-id/${await storage.hmac(role.role_id)}`),
    storage.deletePrefix(`secret-id/${name}/`),
    storage.deletePrefix(`accessor/${name}/`),
  ]);
}

/** A role as `role/:name` reads it. */
export function roleView(role: StoredRole): Record<string, unknown> {
  return {
    bind_secret_id: role.bind_secret_id,
    local_secret_ids: role.local_secret_ids,
    secret_id_bound_cidrs: role.secret_id_bound_cidrs,
    secret_id_num_uses: role.secret_id_num_uses,
    secret_id_ttl: role.secret_id_ttl,
  };
}
