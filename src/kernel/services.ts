/**
 * Interfaces of the cross-cutting services a request passes through (mount and backend
 * resolution, token lookup, authorisation, seal state, audit) and the static facts some
 * endpoints report. Implemented in their features; declared here so that the wire layer and
 * the features depend on the shape, not on each other.
 */
import type { Capability, MountEntry, TokenEntry } from './entries.js';
import type { Backend, LogicalRequest, LogicalResponse, PathSpec } from './request.js';

/** Finds the mount serving a logical path (the mount table, `sys/mount-table.ts`). */
export interface MountResolver {
  /** Longest-prefix match; `foo` also matches the mount `foo/`. */
  resolve(path: string): MountEntry | undefined;
  /** Whether a mount with this accessor is enabled (an auth method's tokens die with it). */
  hasAccessor(accessor: string): boolean;
}

/** Finds the backend serving a mount (the registry the composition root fills, `kernel/backends.ts`). */
export interface BackendResolver {
  /** Undefined for mount types Ferry does not implement. */
  backendFor(mount: MountEntry): Backend | undefined;
}

/** The token store as the request pipeline uses it (`auth/token/store.ts`). */
export interface TokenResolver {
  /** The live entry for a token id; undefined when unknown, expired or revoked. */
  lookup(tokenId: string): Promise<TokenEntry | undefined>;
  /**
   * `lookup` without a promise, when the entry is in memory and live; undefined when it is not
   * (then `lookup` decides). The pipeline asks it first: every request looks its token up.
   */
  cachedLookup?(tokenId: string): TokenEntry | undefined;
  /**
   * Spends one use of a limited-use token, atomically per token; returns the entry after the
   * use, or throws permission denied when none was left.
   */
  consumeUse(entry: TokenEntry): Promise<TokenEntry>;
  /** Revokes a token whose last use a request spent, with every token created under it, once that request is done. */
  revokeUsedUp(entry: TokenEntry): Promise<void>;
}

/** Decides what a token may do; the root policy may do everything. */
export interface Authorizer {
  /** Capabilities the token holds on a logical path. */
  capabilities(token: TokenEntry, path: string): Promise<Set<Capability>>;
  /**
   * `capabilities` without a promise, when the token's policies are compiled and none changed
   * since; undefined when they are not (then `capabilities` decides). Every request asks.
   */
  cachedCapabilities?(token: TokenEntry, path: string): Set<Capability> | undefined;
  /**
   * Capabilities a set of policies (by name, as they stand now) grants on a logical path: for a
   * grant recorded by policy names that outlives the request (sync's prefix associations).
   */
  capabilitiesOfPolicies(policyNames: string[], path: string): Promise<Set<Capability>>;
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
  /**
   * Whether a request to `path` gets audit entries now (no device enabled, or a path Vault does
   * not audit: none). Synchronous and cheap, so that an unaudited request skips both calls.
   */
  audits?(path: string): boolean;
  logRequest(req: LogicalRequest<unknown, unknown>, error?: string): Promise<void>;
  logResponse(req: LogicalRequest<unknown, unknown>, res: LogicalResponse | undefined, status: number, error?: string): Promise<void>;
}

/** Where the HTTP layer reports every answered request (the metrics feature records it). */
export interface RequestObserver {
  /**
   * One answered request: its verb (`LIST` for a list request), the mount and path declaration
   * it was routed to (both undefined when it matched none), the HTTP status, and the seconds
   * Ferry took. Called once per request on the hot path: implementations must be cheap.
   */
  requestAnswered(method: string, mount: MountEntry | undefined, spec: PathSpec | undefined, status: number, seconds: number): void;
}

/**
 * The system-wide lease TTLs, in seconds: the server configuration's `default_lease_ttl` (what
 * a token without a TTL gets, and what a mount's tuning shows when it sets none) and
 * `max_lease_ttl` (the cap), both 768h (32 days) unless configured.
 */
export interface LeaseTtls {
  defaultTtl: number;
  maxTtl: number;
}
export const VAULT_LEASE_TTLS: LeaseTtls = { defaultTtl: 768 * 3600, maxTtl: 768 * 3600 };

/** Static facts a few sys endpoints report. */
export interface ServerInfo {
  /** The Vault-compatible version clients compare (`2.2.0+ferry.0.1.0`). */
  version: string;
  /** Ferry's own release. */
  ferryVersion: string;
  buildDate: string;
  clusterName: string;
  /** Stored behind the barrier (`sys/cluster-identity.ts`): '' until the first unseal reads it. */
  clusterId: string;
  storageType: string;
  apiAddr: string;
  dev: boolean;
}

