import type { MountEntry } from '../../kernel/entries.js';
import { param } from '../../kernel/request.js';
import { storageOf, type AuthMethodDeps } from '../login/deps.js';
import type { TokenSettings } from '../login/token-fields.js';

/** A user as stored under `user/<name>`: the password only as its scrypt hash. */
export interface StoredUser {
  password_hash: string;
  settings: TokenSettings;
}

/** Vault's userpass names (GenericNameWithAtRegex), lower-cased for storage and login. */
export const usernameParam = () =>
  param
    .segment()
    .regex(/^\w(?:[\w.@-]*\w)?$/)
    .transform((name) => name.toLowerCase());

/** The legacy spellings of the token fields a userpass user accepts. */
export const USER_LEGACY_FIELDS = {
  policies: 'token_policies',
  ttl: 'token_ttl',
  max_ttl: 'token_max_ttl',
  bound_cidrs: 'token_bound_cidrs',
} as const;

export type UserDeps = Pick<AuthMethodDeps, 'store' | 'salts'>;

export async function readUser(deps: UserDeps, mount: MountEntry, name: string): Promise<StoredUser | undefined> {
  return (await storageOf(deps, mount).getJson<StoredUser>(`user/${name}`))?.value;
}

export async function writeUser(deps: UserDeps, mount: MountEntry, name: string, user: StoredUser): Promise<void> {
  const storage = storageOf(deps, mount);
  await storage.commit([storage.put(`user/${name}`, user)]);
}

export async function deleteUser(deps: UserDeps, mount: MountEntry, name: string): Promise<void> {
  const storage = storageOf(deps, mount);
  await storage.commit([storage.delete(`user/${name}`)]);
}
