import { createHash } from 'node:crypto';
import type { Association } from './model.js';

/**
 * What the external secrets of an association hold: the value of each, and the idempotency
 * token of each write. Both follow from the KV secret alone, so every retry computes the same.
 */

/** A UUID-shaped idempotency token: same association, incarnation, sub-key and version → same token. */
export function requestTokenFor(
  a: Pick<Association, 'dest_type' | 'dest_name' | 'accessor' | 'secret_name'>,
  incarnation: string,
  subKey: string,
  version: number,
  /**
   * The drift repair this write is (1 for the first): an out-of-band change made another version
   * current, and AWS ignores a write whose token names a version it already has.
   */
  repair = 0,
): string {
  const parts = [a.dest_type, a.dest_name, a.accessor, a.secret_name, incarnation, subKey, String(version)];
  if (repair > 0) parts.push(`repair:${repair}`);
  const h = createHash('sha256').update(parts.join('\u0000')).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** The external value of a secret (or of one key of it), as Vault's sync writes it. */
export function externalValues(a: Association, data: Record<string, unknown>): Record<string, string> {
  if (a.granularity === 'secret-path') return { '': JSON.stringify(data) };
  return Object.fromEntries(Object.entries(data).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]));
}
