import { randomUUID } from 'node:crypto';
import { cidrsWithin, invalidCidr } from '../../kernel/cidr.js';
import type { MountEntry } from '../../kernel/entries.js';
import { withRetry } from '../../store/store.js';
import type { MountStorage } from '../login/mount-storage.js';
import { approleErrors } from './errors.js';
import type { StoredRole } from './roles.js';

/**
 * A secret ID as stored under `secret-id/<role>/<hmac(secret ID)>`: the secret ID itself is
 * never stored. Its accessor (not a secret) points back at it from `accessor/<role>/<accessor>`.
 */
export interface StoredSecretId {
  secret_id_accessor: string;
  /** Uses left; 0 = unlimited. */
  secret_id_num_uses: number;
  /** Seconds; 0 = never expires. */
  secret_id_ttl: number;
  creation_time: string;
  /** RFC 3339; Go's zero time when it never expires, as Vault reports it. */
  expiration_time: string;
  last_updated_time: string;
  metadata: Record<string, string>;
  cidr_list: string[];
  token_bound_cidrs: string[];
}

const NEVER = '0001-01-01T00:00:00Z';

/** What a `secret-id` (or `custom-secret-id`) request asks for. */
export interface SecretIdRequest {
  /** Given for a custom secret ID; generated otherwise. */
  secretId?: string;
  metadata: Record<string, string>;
  cidr_list?: string[];
  token_bound_cidrs?: string[];
  num_uses?: number;
  ttl?: number;
}

const secretKey = (role: string, hmac: string) => `secret-id/${role}/${hmac}`;
const accessorKey = (role: string, accessor: string) => `accessor/${role}/${accessor}`;

/**
 * Secret-ID metadata as Vault takes it: a JSON object, given as such or as a JSON string (hvac
 * and node-vault send the string), with string values.
 */
export function parseMetadata(raw: unknown): Record<string, string> {
  if (raw === undefined || raw === null || raw === '') return {};
  let value = raw;
  if (typeof raw === 'string') {
    try {
      value = JSON.parse(raw);
    } catch {
      throw approleErrors.badMetadata('not a JSON object');
    }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw approleErrors.badMetadata('not a JSON object');
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== 'string') throw approleErrors.badMetadata(`the value of ${JSON.stringify(k)} is not a string`);
    out[k] = v;
  }
  return out;
}

/** Vault's rules for a new secret ID of `role`: its uses and TTL within the role's, its CIDRs within the role's. */
export function planSecretId(role: StoredRole, req: SecretIdRequest, mount: MountEntry, systemMaxTtl: number): { num_uses: number; ttl: number } {
  if (!role.bind_secret_id) throw approleErrors.bindSecretIdUnset();
  for (const [field, cidrs, roleCidrs] of [
    ['cidr_list', req.cidr_list, role.secret_id_bound_cidrs],
    ['token_bound_cidrs', req.token_bound_cidrs, role.settings.token_bound_cidrs],
  ] as const) {
    if (!cidrs || cidrs.length === 0) continue;
    if (invalidCidr(cidrs) !== undefined) throw approleErrors.invalidSecretCidrs();
    if (!cidrsWithin(cidrs, roleCidrs)) throw approleErrors.cidrsNotSubset(field);
  }
  let numUses = role.secret_id_num_uses;
  if (req.num_uses !== undefined) {
    if (req.num_uses < 0) throw approleErrors.negativeUses();
    if (role.secret_id_num_uses > 0 && (req.num_uses === 0 || req.num_uses > role.secret_id_num_uses)) throw approleErrors.usesAboveRole();
    numUses = req.num_uses;
  }
  let ttl = role.secret_id_ttl;
  if (req.ttl !== undefined && req.ttl > 0) {
    if (role.secret_id_ttl > 0 && req.ttl > role.secret_id_ttl) throw approleErrors.ttlAboveRole();
    ttl = req.ttl;
  }
  const mountMax = mount.config.max_lease_ttl || systemMaxTtl;
  return { num_uses: numUses, ttl: ttl > mountMax ? mountMax : ttl };
}

/** Stores a new secret ID; a custom one that is already registered is refused. */
export async function createSecretId(
  storage: MountStorage,
  role: StoredRole,
  req: SecretIdRequest,
  mount: MountEntry,
  nowMs: number,
  systemMaxTtl: number,
): Promise<{ secretId: string; entry: StoredSecretId }> {
  const { num_uses, ttl } = planSecretId(role, req, mount, systemMaxTtl);
  const secretId = req.secretId ?? randomUUID();
  const now = new Date(nowMs).toISOString();
  const entry: StoredSecretId = {
    secret_id_accessor: randomUUID(),
    secret_id_num_uses: num_uses,
    secret_id_ttl: ttl,
    creation_time: now,
    expiration_time: ttl > 0 ? new Date(nowMs + ttl * 1000).toISOString() : NEVER,
    last_updated_time: now,
    metadata: req.metadata,
    cidr_list: req.cidr_list ?? [],
    token_bound_cidrs: req.token_bound_cidrs ?? [],
  };
  const hmac = await storage.hmac(secretId);
  const key = secretKey(role.name, hmac);
  if (await storage.get(key)) throw approleErrors.secretIdTaken();
  await storage.commit([storage.put(key, entry), storage.put(accessorKey(role.name, entry.secret_id_accessor), { hmac })], [storage.check(key, 0)]);
  return { secretId, entry };
}

const expired = (entry: StoredSecretId, nowMs: number) => entry.expiration_time !== NEVER && Date.parse(entry.expiration_time) <= nowMs;

/** The live entry of a secret ID (by its HMAC); an expired one is deleted and reads as none. */
export async function readSecretId(storage: MountStorage, roleName: string, hmac: string, nowMs: number): Promise<StoredSecretId | undefined> {
  const found = await storage.getJson<StoredSecretId>(secretKey(roleName, hmac));
  if (!found) return undefined;
  if (expired(found.value, nowMs)) {
    await deleteSecretId(storage, roleName, hmac, found.value);
    return undefined;
  }
  return found.value;
}

/**
 * Spends one use of a secret ID for a login, after `check` (the CIDR rules) has accepted it:
 * undefined when the secret ID is unknown, expired or used up. The last use deletes it.
 *
 * Atomic: the entry is written back (or deleted) with a check on the revision read, so two
 * concurrent logins can never spend the same use; the loser re-reads and finds one use fewer,
 * or nothing.
 */
export async function consumeSecretId(
  storage: MountStorage,
  roleName: string,
  hmac: string,
  nowMs: number,
  check: (entry: StoredSecretId) => void,
): Promise<StoredSecretId | undefined> {
  const key = secretKey(roleName, hmac);
  return withRetry(async () => {
    const found = await storage.getJson<StoredSecretId>(key);
    if (!found) return undefined;
    const entry = found.value;
    if (expired(entry, nowMs)) {
      await storage.commit([storage.delete(key), storage.delete(accessorKey(roleName, entry.secret_id_accessor))], [storage.check(key, found.revision)]);
      return undefined;
    }
    check(entry);
    if (entry.secret_id_num_uses === 0) return entry;
    const ops =
      entry.secret_id_num_uses === 1
        ? [storage.delete(key), storage.delete(accessorKey(roleName, entry.secret_id_accessor))]
        : [storage.put(key, { ...entry, secret_id_num_uses: entry.secret_id_num_uses - 1, last_updated_time: new Date(nowMs).toISOString() })];
    await storage.commit(ops, [storage.check(key, found.revision)]);
    return entry;
  });
}

export async function deleteSecretId(storage: MountStorage, roleName: string, hmac: string, entry: StoredSecretId): Promise<void> {
  await storage.commit([storage.delete(secretKey(roleName, hmac)), storage.delete(accessorKey(roleName, entry.secret_id_accessor))]);
}

/** The secret ID an accessor names: its HMAC and entry, or undefined. */
export async function secretIdByAccessor(
  storage: MountStorage,
  roleName: string,
  accessor: string,
  nowMs: number,
): Promise<{ hmac: string; entry: StoredSecretId } | undefined> {
  const index = await storage.getJson<{ hmac: string }>(accessorKey(roleName, accessor));
  if (!index) return undefined;
  const entry = await readSecretId(storage, roleName, index.value.hmac, nowMs);
  return entry ? { hmac: index.value.hmac, entry } : undefined;
}

export function listSecretIdAccessors(storage: MountStorage, roleName: string): Promise<string[]> {
  return storage.list(`accessor/${roleName}/`);
}

/** A secret ID as `secret-id/lookup` reports it (never the secret ID itself). */
export function secretIdView(entry: StoredSecretId): Record<string, unknown> {
  return {
    cidr_list: entry.cidr_list,
    creation_time: entry.creation_time,
    expiration_time: entry.expiration_time,
    last_updated_time: entry.last_updated_time,
    metadata: entry.metadata,
    secret_id_accessor: entry.secret_id_accessor,
    secret_id_num_uses: entry.secret_id_num_uses,
    secret_id_ttl: entry.secret_id_ttl,
    token_bound_cidrs: entry.token_bound_cidrs,
  };
}
