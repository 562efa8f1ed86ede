import { z } from 'zod';
import { definePath, type PathSpec } from '../kernel/request.js';
import type { IdentityDeps } from './deps.js';
import { secretsSyncIssuer } from './issuer.js';
import { SIGNING_ALGORITHMS, type OidcKeyRing } from './oidc-keys.js';

const discoveryDocument = z.object({
  issuer: z.string(),
  jwks_uri: z.string(),
  response_types_supported: z.array(z.string()),
  subject_types_supported: z.array(z.string()),
  id_token_signing_alg_values_supported: z.array(z.string()),
});

/** The members a published key may carry: everything else (private members above all) is stripped. */
const jwks = z.object({
  keys: z.array(
    z.object({
      use: z.literal('sig'),
      kty: z.string(),
      kid: z.string(),
      alg: z.enum(SIGNING_ALGORITHMS),
      n: z.string().optional(),
      e: z.string().optional(),
      crv: z.string().optional(),
      x: z.string().optional(),
      y: z.string().optional(),
    }),
  ),
});

/** Verifiers (AWS STS) cache discovery for an hour, as with Vault's other OIDC issuers. */
const DISCOVERY_MAX_AGE = 3600;

/**
 * `identity/oidc/<issuer>/.well-known/...` of the secrets-sync issuer: its discovery document
 * and JWKS, unauthenticated and bare JSON, because AWS fetches them anonymously to verify the
 * tokens Ferry mints. Ferry has one issuer, so its name is a literal of the pattern.
 */
export function wellKnownPaths(deps: Pick<IdentityDeps, 'store' | 'info'>, keys: OidcKeyRing): PathSpec[] {
  return [
    definePath({
      pattern: 'oidc/secrets-sync/.well-known/openid-configuration',
      unauthenticated: true,
      raw: true,
      // Not while sealed: the issuer config and the keys live behind the barrier.
      whileSealed: false,
      operations: (op) => ({
        read: op({
          summary: 'OpenID discovery document of the secrets-sync identity token issuer.',
          operationId: 'oidc-read-secrets-sync-openid-configuration',
          response: discoveryDocument,
          handler: async () => {
            const issuer = await secretsSyncIssuer(deps);
            return {
              raw: discoveryDocument.parse({
                issuer,
                jwks_uri: `${issuer}/.well-known/keys`,
                response_types_supported: ['id_token'],
                subject_types_supported: ['public'],
                id_token_signing_alg_values_supported: [...SIGNING_ALGORITHMS],
              }),
              headers: { 'cache-control': `max-age=${DISCOVERY_MAX_AGE}` },
            };
          },
        }),
      }),
    }),
    definePath({
      pattern: 'oidc/secrets-sync/.well-known/keys',
      unauthenticated: true,
      raw: true,
      whileSealed: false,
      operations: (op) => ({
        read: op({
          summary: 'Public keys (JWKS) that verify secrets-sync identity tokens, the next key included.',
          operationId: 'oidc-read-secrets-sync-public-keys',
          response: jwks,
          handler: async () => {
            const { keys: published, secondsToNextRotation } = await keys.publicKeys();
            return {
              raw: jwks.parse({ keys: published }),
              // A verifier may keep the set until the next rotation brings a new next key.
              headers: { 'cache-control': `max-age=${secondsToNextRotation}` },
            };
          },
        }),
      }),
    }),
  ];
}
