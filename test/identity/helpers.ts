import type { JWK } from 'jose';
import type { CoreServices } from '../../src/compose.js';

/** Where the identity tests' manual clock starts (shared by the server under test and the verifier). */
export const T0 = Date.parse('2026-03-01T10:00:00Z');

export const WELL_KNOWN = '/v1/identity/oidc/secrets-sync/.well-known';

/** Every private JWK member of a stored key (current, next), read through the store as the server does. */
export async function privateMembers(core: CoreServices, keyName: string): Promise<string[]> {
  const entry = await core.store.get(`identity/oidc/key/${keyName}`);
  if (!entry) throw new Error(`no stored key ${keyName}`);
  const stored = JSON.parse(entry.value.toString('utf8')) as { current: { privateJwk: JWK }; next: { privateJwk: JWK } };
  const out: string[] = [];
  for (const jwk of [stored.current.privateJwk, stored.next.privateJwk]) {
    for (const m of ['d', 'p', 'q', 'dp', 'dq', 'qi'] as const) if (typeof jwk[m] === 'string') out.push(jwk[m]);
  }
  return out;
}
