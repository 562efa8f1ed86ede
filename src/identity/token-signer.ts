import { SignJWT, importJWK } from 'jose';
import type { IdentityDeps } from './deps.js';
import { identityErrors } from './errors.js';
import { describeIssuerWarnings, readOidcConfig, secretsSyncIssuer } from './issuer.js';
import { DEFAULT_KEY, OidcKeyRing } from './oidc-keys.js';

/** What a sync destination needs signed. */
export interface SecretsSyncTokenInput {
  /** Destination type as in the sync paths, e.g. `aws-sm`. */
  destinationType: string;
  destinationName: string;
  /** The destination's `identity_token_audience`. */
  audience: string;
  /** The destination's `identity_token_ttl`; default 3600. */
  ttlSeconds?: number;
  /** The destination's `identity_token_key`; default `default`. */
  keyName?: string;
}

export interface MintedToken {
  /** The compact JWS. */
  token: string;
  /** `exp`, in ms epoch. */
  expiresAt: number;
  /** The `kid` in the token's header. */
  kid: string;
}

/** Mints the identity tokens that secrets sync exchanges for AWS credentials (spec §9.3). */
export interface SecretsSyncTokenSigner {
  /** Signs a token with the named key's current signing key, rotating the key first if due. */
  mint(input: SecretsSyncTokenInput): Promise<MintedToken>;
  /** Whether a key can sign; `default` always can (it is created on first use). */
  keyExists(name: string): Promise<boolean>;
  /** How long a key stays published after a rotation (its `verification_ttl`, seconds); undefined for no such key. */
  keyVerificationTtl(name: string): Promise<number | undefined>;
  /** Forgets the imported private keys (call on seal). */
  reset(): void;
}

const DEFAULT_TTL_SECONDS = 3600;

type SigningKeyHandle = Awaited<ReturnType<typeof importJWK>>;

/**
 * The signer the sync worker holds. Each mint reads the key from the store (cheap, and it
 * sees rotations made elsewhere), but imports a private key only when the key's current
 * `kid` changes, so repeated mints skip the import.
 */
export function createSecretsSyncTokenSigner(deps: IdentityDeps): SecretsSyncTokenSigner {
  const keys = new OidcKeyRing(deps.store, deps.clock);
  /** key name → its current signing key, imported; replaced when the kid moves on. */
  const imported = new Map<string, { kid: string; key: SigningKeyHandle }>();
  /** Issuers already warned about: a problem is logged once, when a destination first uses web identity. */
  const warned = new Set<string>();
  const warnOnce = async () => {
    const { issuer } = await readOidcConfig(deps.store);
    const warnings = describeIssuerWarnings(issuer, deps.info.apiAddr);
    const seen = `${issuer}\u0000${deps.info.apiAddr}`;
    if (warnings.length === 0 || warned.has(seen)) return;
    warned.add(seen);
    deps.log.warn({ warnings }, 'secrets sync uses web identity, but AWS may not accept its OIDC issuer');
  };

  return {
    async mint(input) {
      const keyName = input.keyName || DEFAULT_KEY;
      const ttl = input.ttlSeconds ?? DEFAULT_TTL_SECONDS;
      if (!input.destinationType || !input.destinationName) throw identityErrors.destinationRequired();
      if (!input.audience) throw identityErrors.audienceRequired();
      if (!Number.isSafeInteger(ttl) || ttl <= 0) throw identityErrors.invalidTokenTtl();

      const key = await keys.fresh(keyName);
      if (!key) throw identityErrors.noSuchKey(keyName);
      if (!key.allowedClientIds.includes('*') && !key.allowedClientIds.includes(input.audience)) {
        throw identityErrors.audienceNotAllowed(keyName, input.audience);
      }
      const { kid, alg, privateJwk } = key.current;
      let handle = imported.get(keyName);
      if (handle?.kid !== kid) {
        handle = { kid, key: await importJWK(privateJwk, alg) };
        imported.set(keyName, handle);
      }

      await warnOnce();
      const iat = Math.floor(deps.clock() / 1000);
      const exp = iat + ttl;
      const token = await new SignJWT({
        iss: await secretsSyncIssuer(deps),
        sub: `secrets-sync:root:${input.destinationType}:${input.destinationName}`,
        aud: input.audience,
        iat,
        nbf: iat,
        exp,
        'vaultproject.io': {
          namespace_id: 'root',
          namespace_path: '',
          store_type: input.destinationType,
          store_name: input.destinationName,
        },
      })
        .setProtectedHeader({ alg, kid, typ: 'JWT' })
        .sign(handle.key);
      return { token, expiresAt: exp * 1000, kid };
    },
    keyExists: (name) => keys.exists(name),
    keyVerificationTtl: (name) => keys.verificationTtl(name),
    reset: () => imported.clear(),
  };
}
