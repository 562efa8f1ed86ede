import type { MountEntry } from '../../kernel/entries.js';
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
