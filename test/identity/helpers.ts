import type { JWK } from 'jose';
import type { Core } from '../../src/core.js';

/** A clock tests move by hand; shared by the server under test and the verifier. */
export interface ManualClock {
  (): number;
  advance(ms: number): void;
}

export function manualClock(start = Date.parse('2026-03-01T10:00:00Z')): ManualClock {
  let t = start;
  const clock = (() => t) as ManualClock;
  clock.advance = (ms) => {
    t += ms;
  };
  return clock;
}

export const SECOND = 1000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;

export const WELL_KNOWN = '/v1/identity/oidc/secrets-sync/.well-known';

/** Every private JWK member of a stored key (current, next), read through the store as the server does. */
export async function privateMembers(core: Core, keyName: string): Promise<string[]> {
  const entry = await core.store.get(`identity/oidc/key/${keyName}`);
  if (!entry) throw new Error(`no stored key ${keyName}`);
  const stored = JSON.parse(entry.value.toString('utf8')) as { current: { privateJwk: JWK }; next: { privateJwk: JWK } };
  const out: string[] = [];
  for (const jwk of [stored.current.privateJwk, stored.next.privateJwk]) {
    for (const m of ['d', 'p', 'q', 'dp', 'dq', 'qi'] as const) if (typeof jwk[m] === 'string') out.push(jwk[m]);
  }
  return out;
}
