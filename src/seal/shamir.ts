import { combine, split } from 'shamir-secret-sharing';

/**
 * Shamir secret sharing of the root key, through the audited `shamir-secret-sharing`
 * library. That library needs at least two shares; as Vault does, a 1-of-1 configuration
 * uses the key itself as the only share.
 */
export async function splitKey(key: Buffer, shares: number, threshold: number): Promise<Buffer[]> {
  if (shares === 1) return [Buffer.from(key)];
  return (await split(new Uint8Array(key), shares, threshold)).map((s) => Buffer.from(s));
}

/** Recombines `threshold` shares; with a 1-of-1 configuration the share is the key. */
export async function combineShares(parts: Buffer[], threshold: number): Promise<Buffer> {
  if (threshold === 1) return Buffer.from(parts[0]!);
  return Buffer.from(await combine(parts.map((p) => new Uint8Array(p))));
}

/** Byte length of one share for a key of `keyBytes`: the key itself, or the key plus Shamir's x coordinate. */
export function shareLength(keyBytes: number, threshold: number): number {
  return threshold === 1 ? keyBytes : keyBytes + 1;
}
