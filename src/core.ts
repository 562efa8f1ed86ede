import type { Logger } from 'pino';
import type { Store } from './store/store.js';
import type { MountTable, MountEntry } from './sys/mount-table.js';
import type { TokenStore, TokenEntry } from './auth/token-store.js';
import type { Backend, LogicalRequest, LogicalResponse } from './http/route.js';

/** Capabilities of Vault's ACL language. */
export type Capability = 'create' | 'read' | 'update' | 'patch' | 'delete' | 'list' | 'sudo' | 'deny';

/** Decides what a token may do; the root policy may do everything. */
export interface Authorizer {
  /** Capabilities the token holds on a logical path. */
  capabilities(token: TokenEntry, path: string): Promise<Set<Capability>>;
  /** Whether the token holds any capability on the mount or anything under it (KV preflight). */
  hasAnyUnder(token: TokenEntry, mountPath: string): Promise<boolean>;
}

/** Seal state as `sys/seal-status` reports it. */
export interface SealStatus {
  initialized: boolean;
  sealed: boolean;
  t: number;
  n: number;
  progress: number;
  nonce: string;
}

export interface SealState {
  status(): SealStatus;
}

/** Audit devices see every request and response; a failure of all of them fails the request. */
export interface AuditSink {
  logRequest(req: LogicalRequest, error?: string): Promise<void>;
  logResponse(req: LogicalRequest, res: LogicalResponse | undefined, status: number, error?: string): Promise<void>;
}

/** Static facts a few sys endpoints report. */
export interface ServerInfo {
  version: string;
  buildDate: string;
  clusterName: string;
  clusterId: string;
  storageType: string;
  apiAddr: string;
  dev: boolean;
}

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
