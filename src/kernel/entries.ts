/**
 * The entries every layer reads: a mount, a token, an ACL capability. Their stores live in their
 * features (`sys/mount-table.ts`, `auth/token/store.ts`); the shapes live here so that the wire
 * layer and other features can carry them without importing those features.
 */

/** Capabilities of Vault's ACL language. */
export type Capability = 'create' | 'read' | 'update' | 'patch' | 'delete' | 'list' | 'sudo' | 'deny';

/** One entry of the mount table, as `sys/mounts` reports it. */
export interface MountEntry {
  /** With trailing slash: `secret/`, `team/kv/`. */
  path: string;
  type: string;
  description: string;
  accessor: string;
  uuid: string;
  config: { default_lease_ttl: number; max_lease_ttl: number; force_no_cache: boolean; [k: string]: unknown };
  options: Record<string, string> | null;
  local: boolean;
  seal_wrap: boolean;
  external_entropy_access: boolean;
  plugin_version: string;
  /** Unix ms; not reported, kept for ordering. */
  created: number;
  /**
   * The storage area holding the mount's data (`logical/<storage>/`) when it is not the uuid:
   * a KV v1→v2 upgrade builds the versioned layout in a fresh area and switches to it. Not reported.
   */
  storage?: string;
  /** A KV v1→v2 upgrade in progress (set by the tune, cleared by the switch to `area`). Not reported. */
  kv_upgrade?: { area: string; from: number; started: number };
}

/** Storage prefix under which a mount's backend keeps its data (deleted with the mount). */
export function mountDataPrefix(mount: Pick<MountEntry, 'uuid' | 'storage'>): string {
  return `logical/${mount.storage ?? mount.uuid}/`;
}

/** A token as stored; the token id itself is never stored, only its salted hash. */
export interface TokenEntry {
  /** Salted hash of the token id: the storage identity of the token. */
  hash: string;
  accessor: string;
  policies: string[];
  /** Hash of the parent token; null for orphans and the root token. */
  parent: string | null;
  path: string;
  display_name: string;
  meta: Record<string, string> | null;
  /** Unix seconds. */
  creation_time: number;
  /** Seconds; 0 = never expires. */
  creation_ttl: number;
  /** Unix seconds of expiry; 0 = never. */
  expire_at: number;
  explicit_max_ttl: number;
  period: number;
  /** Remaining uses; 0 = unlimited. */
  num_uses: number;
  renewable: boolean;
  orphan: boolean;
  /** Batch tokens are not stored (the token carries its entry), have no accessor and cannot renew. */
  type: 'service' | 'batch';
  last_renewal_time?: number;
  /** CIDR blocks the token may be used from (a login role's `token_bound_cidrs`); absent: anywhere. */
  bound_cidrs?: string[];
  /** Accessor of the auth mount whose login issued the token: disabling that mount revokes it. */
  mount_accessor?: string;
  /**
   * Seconds from creation past which renewals may not take a non-periodic token (a login role's
   * `token_max_ttl` or its mount's max lease TTL); absent: the system maximum.
   */
  max_ttl?: number;
}
