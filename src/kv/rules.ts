import type { StoredConfig, StoredMeta, StoredVersion } from './layout.js';

/**
 * KV v2's versioning rules as pure functions over the stored shapes (kv-v2.md §2), so that
 * the engine only loads, decides and commits.
 */

/** Versions kept when neither the mount nor the key sets `max_versions`. */
export const DEFAULT_MAX_VERSIONS = 10;

/** The larger of the key and mount settings; 10 when both are 0. */
export function effectiveMaxVersions(config: StoredConfig, meta: Pick<StoredMeta, 'maxVersions'>): number {
  const max = Math.max(config.maxVersions, meta.maxVersions);
  return max > 0 ? max : DEFAULT_MAX_VERSIONS;
}

/** Whether writes to this key must carry `options.cas`. */
export function casRequired(config: StoredConfig, meta: Pick<StoredMeta, 'casRequired'>): boolean {
  return config.casRequired || meta.casRequired;
}

/**
 * When a version created (or undeleted) at `from` is due to be soft-deleted: after the
 * smaller of the non-zero key and mount `delete_version_after`; never when the mount's
 * value is negative (disabled for every key) or neither is set.
 */
export function scheduledDeletion(from: number, config: StoredConfig, meta: Pick<StoredMeta, 'deleteVersionAfter'>): number | null {
  if (config.deleteVersionAfter < 0) return null;
  const candidates = [config.deleteVersionAfter, meta.deleteVersionAfter].filter((s) => s > 0);
  if (candidates.length === 0) return null;
  return from + Math.min(...candidates) * 1000;
}

export type VersionState = 'live' | 'deleted' | 'destroyed';

/** A version whose deletion time has passed is deleted, whether by request or by expiry. */
export function versionState(v: StoredVersion, now: number): VersionState {
  if (v.destroyed) return 'destroyed';
  if (v.deletion !== null && v.deletion <= now) return 'deleted';
  return 'live';
}

/**
 * Drops the oldest versions until at most `max` remain; returns the dropped version numbers
 * (whose data entries must be deleted in the same commit) and advances `oldest`.
 */
export function prune(meta: StoredMeta, max: number): number[] {
  const keys = Object.keys(meta.versions);
  const excess = keys.length - max;
  if (excess <= 0) return [];
  // Version numbers are array-index keys, which JavaScript lists in ascending numeric order.
  const numbers = keys.map(Number);
  const dropped = numbers.slice(0, excess);
  for (const n of dropped) delete meta.versions[n];
  meta.oldest = numbers[excess]!;
  return dropped;
}

/**
 * Whether the current version has been soft-deleted (by expiry, since explicit deletes
 * notify themselves) without any event having been emitted since.
 */
export function unreportedExpiry(meta: StoredMeta, now: number): boolean {
  const v = meta.versions[meta.current];
  if (!v || versionState(v, now) !== 'deleted') return false;
  return !(meta.notified && meta.notified.version === meta.current && meta.notified.deletion === v.deletion);
}

/** Records that an event emitted now covers the current version's soft deletion, if any. */
export function markReported(meta: StoredMeta, now: number): void {
  const v = meta.versions[meta.current];
  meta.notified = v && versionState(v, now) === 'deleted' ? { version: meta.current, deletion: v.deletion! } : null;
}

/** `options.cas`: an integer or a numeric string; anything else cannot be parsed. */
export function parseCas(raw: unknown): number | undefined {
  if (typeof raw === 'number' && Number.isSafeInteger(raw)) return raw;
  if (typeof raw === 'string' && /^\s*[+-]?\d+\s*$/.test(raw)) {
    const n = Number(raw);
    if (Number.isSafeInteger(n)) return n;
  }
  return undefined;
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** RFC 7396 JSON merge patch: `null` removes a member, objects merge recursively, anything else replaces. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isPlainObject(patch)) return patch;
  const result: Record<string, unknown> = isPlainObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key], value);
  }
  return result;
}

/**
 * The structure of a secret without its values: leaves (and empty objects) become `null`;
 * with `depth` > 0, keys at that depth are leaves whatever they hold.
 */
export function subkeysOf(data: Record<string, unknown>, depth: number, level = 1): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(data)) {
    const descend = isPlainObject(value) && Object.keys(value).length > 0 && (depth === 0 || level < depth);
    out[key] = descend ? subkeysOf(value as Record<string, unknown>, depth, level + 1) : null;
  }
  return out;
}

export const CUSTOM_METADATA_LIMITS = { keys: 64, keyLength: 128, valueLength: 512 };
const PREFIX = 'custom_metadata validation failed';
/** Go's `unicode.IsPrint`: letters, marks, numbers, punctuation, symbols and the ASCII space. */
const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]*$/u;

/**
 * Checks `custom_metadata` against Vault's limits; returns every violation (empty when valid).
 * Lengths are in bytes, as Go measures strings.
 */
export function customMetadataErrors(custom: Record<string, string>): string[] {
  const keys = Object.keys(custom);
  if (keys.length > CUSTOM_METADATA_LIMITS.keys) {
    return [`${PREFIX}: payload must contain at most ${CUSTOM_METADATA_LIMITS.keys} keys, provided ${keys.length}`];
  }
  const errors: string[] = [];
  for (const key of keys.sort()) {
    const value = custom[key]!;
    const keyLength = Buffer.byteLength(key);
    const valueLength = Buffer.byteLength(value);
    if (keyLength === 0 || keyLength > CUSTOM_METADATA_LIMITS.keyLength) {
      errors.push(`${PREFIX}: length of key ${JSON.stringify(key)} is ${keyLength} but must be 0 < len(key) <= ${CUSTOM_METADATA_LIMITS.keyLength}`);
    }
    if (valueLength === 0 || valueLength > CUSTOM_METADATA_LIMITS.valueLength) {
      errors.push(
        `${PREFIX}: length of value for key ${JSON.stringify(key)} is ${valueLength} but must be 0 < len(value) <= ${CUSTOM_METADATA_LIMITS.valueLength}`,
      );
    }
    if (!PRINTABLE.test(key)) errors.push(`${PREFIX}: key ${JSON.stringify(key)} contains unprintable characters`);
    if (!PRINTABLE.test(value)) errors.push(`${PREFIX}: value for key ${JSON.stringify(key)} contains unprintable characters`);
  }
  return errors;
}
