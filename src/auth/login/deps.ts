import { z } from 'zod';
import type { MountEntry } from '../../kernel/entries.js';
import { notFound } from '../../kernel/errors.js';
import type { LogicalResponse } from '../../kernel/request.js';
import type { Store } from '../../store/store.js';
import type { IssueDeps } from './issue.js';
import { MountStorage, type SaltCache } from './mount-storage.js';

/** What every auth method (AppRole, JWT, userpass) needs, wired in the composition root. */
export interface AuthMethodDeps extends IssueDeps {
  store: Store;
  /** The mounts' HMAC salts, shared by the methods and dropped on seal. */
  salts: SaltCache;
}

/** The storage of the auth mount a request is for. */
export function storageOf(deps: Pick<AuthMethodDeps, 'store' | 'salts'>, mount: MountEntry): MountStorage {
  return new MountStorage(deps.store, mount, deps.salts);
}

/** The `keys` answer of a LIST. */
export const keysResponse = z.object({ keys: z.array(z.string()) });

/** A LIST of what the mount stores under `prefix` (`role/`, `user/`): Vault's 404 when there is nothing. */
export async function listStored(deps: Pick<AuthMethodDeps, 'store' | 'salts'>, mount: MountEntry, prefix: string): Promise<LogicalResponse> {
  const keys = await storageOf(deps, mount).list(prefix);
  if (keys.length === 0) throw notFound();
  return { data: { keys } };
}
