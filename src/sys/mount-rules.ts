import type { MountEntry } from '../kernel/entries.js';
import { parseDuration } from '../kernel/fields.js';
import { sysErrors } from './errors.js';
import { SUPPORTED_TYPES, normaliseMountPath, type MountTable } from './mount-table.js';

/** Lease TTLs in mount config: `"0s"`, `""` and `"system"` mean "inherit the system default" (0). */
export function configTtl(value: unknown, field: string): number {
  if (value === undefined || value === null || value === 'system' || value === '') return 0;
  const s = parseDuration(value);
  if (s === undefined) throw sysErrors.invalidTtl(field);
  return s;
}

/** Options values are strings on the wire (hvac users send `{"version": 2}`). */
export function stringOptions(options: Record<string, unknown> | undefined): Record<string, string> | null {
  if (!options) return null;
  return Object.fromEntries(Object.entries(options).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]));
}

/** Resolves Vault's KV shorthands: `kv-v2` → `kv` + version "2", `kv-v1` → "1". */
export function resolveEngineType(type: string, options: Record<string, string> | null): { type: string; options: Record<string, string> | null } {
  let resolved = type;
  let opts = options ? { ...options } : null;
  if (type === 'kv-v2' || type === 'kv-v1') {
    resolved = 'kv';
    opts = { ...(opts ?? {}), version: type === 'kv-v2' ? '2' : '1' };
  }
  if (!SUPPORTED_TYPES.has(resolved)) throw sysErrors.unknownEngine(type);
  if (opts?.version !== undefined) {
    if (resolved !== 'kv') throw sysErrors.versionNotAllowed(resolved);
    if (opts.version === '') delete opts.version;
    else if (opts.version !== '1' && opts.version !== '2') throw sysErrors.invalidKvVersion(opts.version);
  }
  return { type: resolved, options: opts };
}

/** The mount at a user-given path, or a 400 naming the path. */
export function existingMount(mounts: MountTable, raw: string): MountEntry {
  const path = normaliseMountPath(raw);
  const m = mounts.get(path);
  if (!m) throw sysErrors.noMountAt(path);
  return m;
}

/** The KV version of a mount's options: 0 when none is set (a plain `kv` mount). */
export function kvVersionOf(mount: MountEntry): number {
  const v = mount.options?.version;
  return v ? Number(v) : 0;
}

/**
 * What a tune's options may do, by Vault's rules: `version` only on KV mounts, only 1 or 2, never
 * down. Returns the version change it asks for (Vault warns on every one; 1 → 2 upgrades the data).
 */
export function checkTunedOptions(mount: MountEntry, options: Record<string, string> | null): { from: number; to: number } | undefined {
  const raw = options?.version;
  if (raw === undefined) return undefined;
  if (mount.type !== 'kv') throw sysErrors.versionNotAllowed(mount.type);
  const to = raw.trim() === '' ? 0 : Number(raw);
  if (to !== 1 && to !== 2) throw sysErrors.invalidTunedVersion(Number.isInteger(to) ? String(to) : raw);
  const from = kvVersionOf(mount);
  if (from > to) throw sysErrors.kvDowngrade(from);
  return from < to ? { from, to } : undefined;
}

/** Vault's warning on a tune that changes a KV mount's version. */
export const versionChangeWarning = (change: { from: number; to: number }) =>
  `Upgrading mount from version ${change.from} to version ${change.to}. This mount will be unavailable for a brief period and will resume service shortly.`;

/**
 * An auth mount's `config.token_type` as Vault validates it: `default-service` (what an unset
 * value reads as) or `default-batch` let a role choose; `service` or `batch` decide for all.
 */
export function mountTokenType(value: unknown): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (value === 'default-service' || value === 'service' || value === 'default-batch' || value === 'batch') return value;
  throw sysErrors.invalidMountTokenType();
}

/** The lease TTLs of a mount's config; a default above the max is refused, as Vault refuses it. */
export function configLeaseTtls(config: Record<string, unknown>): { default_lease_ttl: number; max_lease_ttl: number } {
  const ttls = {
    default_lease_ttl: configTtl(config.default_lease_ttl, 'default_lease_ttl'),
    max_lease_ttl: configTtl(config.max_lease_ttl, 'max_lease_ttl'),
  };
  if (ttls.default_lease_ttl > 0 && ttls.max_lease_ttl > 0 && ttls.default_lease_ttl > ttls.max_lease_ttl) throw sysErrors.defaultAboveMax();
  return ttls;
}

/** `listing_visibility` of a mount's config: "", "unauth" or "hidden". */
export function listingVisibility(value: unknown): string | undefined {
  if (typeof value !== 'string' || value === '') return undefined;
  if (!['unauth', 'hidden'].includes(value)) throw sysErrors.invalidListingVisibility(value);
  return value;
}

/** The config of a mount being enabled (secrets engine or auth method): TTLs, no-cache flag, listing visibility. */
export function mountConfig(config: Record<string, unknown>): MountEntry['config'] {
  const out: MountEntry['config'] = {
    ...configLeaseTtls(config),
    force_no_cache: config.force_no_cache === true || config.force_no_cache === 'true',
  };
  const visibility = listingVisibility(config.listing_visibility);
  if (visibility !== undefined) out.listing_visibility = visibility;
  return out;
}
