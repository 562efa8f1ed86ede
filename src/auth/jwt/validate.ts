import { compactVerify, decodeProtectedHeader, type CompactVerifyResult } from 'jose';
import type { Claims } from './claims.js';
import { jwtErrors } from './errors.js';
import type { KeySource } from './keys.js';

/** What a token must satisfy, from the role and the mount's configuration. Leeways in seconds, already resolved. */
export interface Expectations {
  /** '' skips the check. */
  issuer: string;
  subject: string;
  /** Any one must match; empty skips the check. */
  audiences: string[];
  algorithms: string[];
  clockSkewLeeway: number;
  expirationLeeway: number;
  notBeforeLeeway: number;
}

const invalid = (reason: string) => jwtErrors.invalidToken(reason);
const signatureError = (reason: string) => invalid(`error verifying token signature: ${reason}`);
const algorithmError = () => invalid('invalid algorithm (alg) header parameter: token signed with unexpected algorithm');

const codeOf = (err: unknown) => (err as { code?: string }).code;

/** Verifies the signature with jose against the mount's keys, restricted to the allowed algorithms. */
async function verifySignature(token: string, source: KeySource, algorithms: string[]): Promise<CompactVerifyResult> {
  if (source.kind === 'static') {
    for (const key of source.keys) {
      try {
        return await compactVerify(token, key, { algorithms });
      } catch (err) {
        if (codeOf(err) === 'ERR_JOSE_ALG_NOT_ALLOWED') throw algorithmError();
      }
    }
    throw signatureError('no known key successfully validated the token signature');
  }
  try {
    return await compactVerify(token, (header, jws) => source.keys.resolve(header, jws), { algorithms });
  } catch (err) {
    if (codeOf(err) === 'ERR_JOSE_ALG_NOT_ALLOWED') throw algorithmError();
    // A jose error is about the token or the key set's content; anything else is the fetch.
    if (codeOf(err) === undefined) throw signatureError(`failed to fetch the JSON Web Key Set: ${(err as Error).message}`);
    throw signatureError('failed to verify id token signature');
  }
}

/** A NumericDate claim in seconds; 0 when absent, as go-jose reads it. */
function numericDate(claims: Claims, name: 'exp' | 'nbf' | 'iat', what: string): number {
  const value = claims[name];
  if (value === undefined || value === null) return 0;
  if (typeof value !== 'number' || !Number.isFinite(value)) throw invalid(`invalid ${what} (${name}) claim: not a number`);
  return Math.trunc(value);
}

/** The `aud` claim as a list, whether the token carries a string (GitHub) or an array. */
export function audiencesOf(claims: Claims): string[] {
  const aud = claims.aud;
  if (typeof aud === 'string') return aud === '' ? [] : [aud];
  if (Array.isArray(aud)) return aud.filter((a): a is string => typeof a === 'string');
  return [];
}

/**
 * Validates a JWT as Vault's JWT method does (through HashiCorp's cap library), in its order
 * and with its messages: the signature (jose, against the configured keys; `alg: none` and
 * algorithms outside the allowed list are refused), then `iss`, `sub` and `aud` when the role
 * binds them, then the time claims: at least one of `iat`, `nbf`, `exp`; a missing `exp` is the
 * later of `iat`/`nbf` plus the expiration leeway, a missing `nbf` is `iat` or `exp` minus the
 * not-before leeway; all three are compared with the clock skew leeway.
 */
export async function verifyToken(token: string, source: KeySource, expected: Expectations, nowMs: number): Promise<Claims> {
  let alg: unknown;
  try {
    alg = decodeProtectedHeader(token).alg;
  } catch {
    throw signatureError('malformed jwt: expected a signed JWT in compact form (three base64url parts)');
  }
  if (token.split('.').length !== 3) throw signatureError('malformed jwt: expected a signed JWT in compact form (three base64url parts)');
  if (typeof alg !== 'string' || alg.toLowerCase() === 'none' || token.endsWith('.')) throw signatureError('token is not signed');
  const { payload } = await verifySignature(token, source, expected.algorithms);

  let claims: unknown;
  try {
    claims = JSON.parse(new TextDecoder().decode(payload));
  } catch {
    throw signatureError('malformed jwt: the payload is not JSON');
  }
  if (claims === null || typeof claims !== 'object' || Array.isArray(claims)) throw signatureError('malformed jwt: the payload is not a JSON object');
  const all = claims as Claims;

  if (expected.issuer !== '' && all.iss !== expected.issuer) throw invalid('invalid issuer (iss) claim');
  if (expected.subject !== '' && all.sub !== expected.subject) throw invalid('invalid subject (sub) claim');
  if (expected.audiences.length > 0) {
    const audiences = audiencesOf(all);
    if (!expected.audiences.some((a) => audiences.includes(a))) {
      throw invalid('invalid audience (aud) claim: audience claim does not match any expected audience');
    }
  }

  const iat = numericDate(all, 'iat', 'issued at');
  let exp = numericDate(all, 'exp', 'expiration time');
  let nbf = numericDate(all, 'nbf', 'not before');
  if (iat === 0 && exp === 0 && nbf === 0) throw invalid('no issued at (iat), not before (nbf), or expiration time (exp) claims in token');
  if (exp === 0) exp = Math.max(iat, nbf) + expected.expirationLeeway;
  if (nbf === 0) nbf = iat !== 0 ? iat : exp - expected.notBeforeLeeway;
  const now = nowMs / 1000;
  const skew = expected.clockSkewLeeway;
  if (now + skew < nbf) throw invalid('invalid not before (nbf) claim: token not yet valid');
  if (now - skew > exp) throw invalid('invalid expiration time (exp) claim: token is expired');
  if (iat !== 0 && now + skew < iat) throw invalid('invalid issued at (iat) claim: token issued in the future');
  return all;
}
