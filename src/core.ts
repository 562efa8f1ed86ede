import type { Logger } from 'pino';
import type { Store } from './store/store.js';
import type { MountTable } from './sys/mount-table.js';
import type { MountEntry } from './kernel/entries.js';
import type { TokenStore } from './auth/token-store.js';
import type { Backend } from './kernel/request.js';
import type { AuditSink, Authorizer, SealState, ServerInfo } from './kernel/services.js';

/**
 * The server's domain services, wired once in the composition root (`main.ts`) and handed
 * to the HTTP layer. HTTP depends on this; nothing here depends on HTTP.
 */
export interface Core {
  store: Store;
  mounts: MountTable;
  tokens: TokenStore;
  authorizer: Authorizer;
  seal: SealState;
  audit: AuditSink;
  /** The backend serving a mount, or undefined for types Ferry does not implement. */
  backendFor(mount: MountEntry): Backend | undefined;
  clock: () => number;
  log: Logger;
  info: ServerInfo;
  /** Checks run before a mount is disabled; each throws a VaultError to refuse (sync associations). */
  unmountGuards: Array<(mount: MountEntry) => Promise<void>>;
  /** Largest accepted request body, in bytes. */
  maxRequestSize: number;
}
