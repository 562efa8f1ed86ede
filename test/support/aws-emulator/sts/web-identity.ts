/**
 * AssumeRoleWithWebIdentity: the validation pipeline of aws-sts-web-identity.md §3.3, one failure
 * → one AWS error code, in the spec's logical order. Unsigned: the caller's identity is the token.
 */
import { compactVerify, importJWK, type JWK } from 'jose';
import { recordEvaluations } from '../authorization.js';
import type { CredentialStore } from '../credentials.js';
import { AwsError } from '../errors.js';
import { conditionMatches, type Iam, type Role } from '../iam.js';
import type { LogFields, WebIdentityClaims } from '../log.js';
import { KeyFetchError, type OidcKeyCache } from './oidc-keys.js';
import { isoSeconds, parseRoleArn, validateParams } from './protocol.js';

export interface StsDeps {
  iam: Iam;
  keys: OidcKeyCache;
  credentials: CredentialStore;
  /** Emulator clock, ms epoch. */
  now(): number;
}

const ALGORITHMS = ['RS256', 'RS384', 'RS512', 'ES256', 'ES384', 'ES512'];
const EC_CURVE: Record<string, string> = { ES256: 'P-256', ES384: 'P-384', ES512: 'P-521' };
/** IAM accepts a token up to 5 minutes after `exp` (clock skew); the same allowance is used for `nbf`. */
const SKEW_S = 300;
/** chosen: the spec records "Token too old" but not the threshold. */
const MAX_TOKEN_AGE_S = 24 * 60 * 60;

const invalidToken = (message: string) => new AwsError('InvalidIdentityToken', message);
const NOT_A_JWT = 'The ID Token provided is not a valid JWT. (You may see this error if you sent an Access Token)';
const NO_KEY =
  "Couldn't retrieve verification key from your identity provider,  please reference AssumeRoleWithWebIdentity documentation for requirements";

export const SESSION_NAME_PATTERN = '[\\w+=,.@-]*';

function decodeSegment(segment: string): Record<string, unknown> {
  if (!/^[A-Za-z0-9_-]+$/.test(segment)) throw invalidToken(NOT_A_JWT);
  try {
    const value = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8')) as unknown;
    if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error('not an object');
    return value as Record<string, unknown>;
  } catch {
    throw invalidToken(NOT_A_JWT);
  }
}

/** Does a JWK fit the token's algorithm (RSA for RS*, EC on the right curve for ES*)? */
function fits(jwk: JWK, alg: string): boolean {
  if (jwk.use !== undefined && jwk.use !== 'sig') return false;
  if (jwk.alg !== undefined && jwk.alg !== alg) return false;
  return alg.startsWith('RS') ? jwk.kty === 'RSA' : jwk.kty === 'EC' && jwk.crv === EC_CURVE[alg];
}

async function loadKeys(keys: OidcKeyCache, iss: string, refresh: boolean): Promise<JWK[]> {
  try {
    return await keys.keys(iss, refresh);
  } catch (e) {
    if (e instanceof KeyFetchError) throw invalidToken(NO_KEY);
    throw e;
  }
}

/** Selects the verification key by `kid`, refetching once on an unknown kid (key rotation). */
async function selectKey(deps: StsDeps, iss: string, alg: string, kid: string | undefined): Promise<JWK> {
  const pick = (keys: JWK[]) =>
    kid !== undefined ? keys.filter((k) => k.kid === kid && fits(k, alg)) : keys.filter((k) => fits(k, alg));
  let candidates = pick(await loadKeys(deps.keys, iss, false));
  if (candidates.length === 0) candidates = pick(await loadKeys(deps.keys, iss, true));
  if (candidates.length === 0) throw invalidToken(NO_KEY);
  // Without kid, only an unambiguous key is used (conservative; AWS's rule is unconfirmed).
  if (kid === undefined && candidates.length > 1) {
    throw invalidToken('The ID Token has no kid and the identity provider publishes several keys for its algorithm.');
  }
  return candidates[0];
}

function intClaim(payload: Record<string, unknown>, name: string, required: boolean): number | undefined {
  const v = payload[name];
  if (v === undefined) {
    if (required) throw invalidToken(`The ID Token has no ${name} claim.`);
    return undefined;
  }
  // The model text: time claims are integers (NumericDate), not strings or floats.
  if (typeof v !== 'number' || !Number.isInteger(v)) throw invalidToken(`The ID Token's ${name} claim must be an integer.`);
  return v;
}

export async function assumeRoleWithWebIdentity(
  deps: StsDeps,
  params: URLSearchParams,
  log: LogFields,
): Promise<Record<string, unknown>> {
  // 1. parameter shapes
  validateParams(params, [
    { name: 'RoleArn', required: true, min: 20, max: 2048 },
    { name: 'RoleSessionName', required: true, min: 2, max: 64, pattern: SESSION_NAME_PATTERN },
    { name: 'WebIdentityToken', required: true, min: 4, max: 20_000, sensitive: true },
    { name: 'ProviderId', min: 4, max: 2048 },
    { name: 'Policy', min: 1, max: 2048, pattern: '[\\u0009\\u000A\\u000D\\u0020-\\u00FF]+' },
    { name: 'DurationSeconds', integer: { min: 900, max: 43_200 } },
  ]);
  const roleArn = params.get('RoleArn')!;
  const sessionName = params.get('RoleSessionName')!;
  const token = params.get('WebIdentityToken')!;
  const duration = Number(params.get('DurationSeconds') ?? 3600);
  const { accountId } = parseRoleArn(roleArn);
  log.accountId = accountId;

  // OAuth 2.0 access tokens (ProviderId) are checked by Amazon / Facebook, which are not here.
  const providerId = params.get('ProviderId');
  if (providerId !== null) {
    throw new AwsError('IDPRejectedClaim', `${providerId}: ${providerId} responded with HTTP/1.1 400 Bad Request`, 403);
  }

  // 2. a JWT: three base64url segments, JSON header and payload
  const segments = token.split('.');
  if (segments.length !== 3) throw invalidToken(NOT_A_JWT);
  const header = decodeSegment(segments[0]);
  const payload = decodeSegment(segments[1]);
  const iss = payload.iss;
  const aud = payload.aud;
  const kid = typeof header.kid === 'string' ? header.kid : undefined;
  log.webIdentity = {
    sub: typeof payload.sub === 'string' ? payload.sub : '',
    aud: typeof aud === 'string' || Array.isArray(aud) ? (aud as string | string[]) : '',
    iss: typeof iss === 'string' ? iss : '',
    iat: typeof payload.iat === 'number' ? payload.iat : 0,
    exp: typeof payload.exp === 'number' ? payload.exp : 0,
    ...(kid !== undefined ? { kid } : {}),
  } satisfies WebIdentityClaims;

  // 3. algorithm: RS256/384/512 and ES256/384/512 only (no none, HS*, PS*, EdDSA)
  const alg = header.alg;
  if (typeof alg !== 'string' || !ALGORITHMS.includes(alg)) {
    throw invalidToken(`The ID Token is signed with an unsupported algorithm: ${String(alg)}.`);
  }

  // 4. issuer: an OIDC provider of the role's account with exactly this URL
  const provider = typeof iss === 'string' ? deps.iam.providerFor(accountId, iss) : undefined;
  if (provider === undefined) throw invalidToken(`No OpenIDConnect provider found in your account for ${String(iss)}`);

  // 5. audience: one of the provider's client ids
  const audiences = (Array.isArray(aud) ? aud : [aud]).filter((a): a is string => typeof a === 'string');
  const accepted = audiences.filter((a) => provider.clientIds.includes(a));
  if (accepted.length === 0) throw invalidToken('Incorrect token audience');

  // 6-8. keys from discovery + JWKS, key by kid, signature
  const jwk = await selectKey(deps, provider.url, alg, kid);
  let key;
  try {
    key = await importJWK(jwk, alg);
  } catch {
    throw invalidToken(NO_KEY);
  }
  try {
    await compactVerify(token, key, { algorithms: [alg] });
  } catch {
    throw invalidToken('The signature of the ID Token could not be verified with the identity provider keys.');
  }

  // 9-12. time claims (integers), against the emulator clock
  const now = Math.floor(deps.now() / 1000);
  const exp = intClaim(payload, 'exp', true)!;
  const iat = intClaim(payload, 'iat', false);
  const nbf = intClaim(payload, 'nbf', false);
  if (now > exp + SKEW_S) {
    throw new AwsError(
      'ExpiredTokenException',
      `Token expired: current date/time ${now} must be before the expiration date/time${exp}`,
    );
  }
  if (iat !== undefined && now - iat > MAX_TOKEN_AGE_S) throw new AwsError('ExpiredTokenException', `Token too old: ${now - iat}`);
  if (nbf !== undefined && nbf > now + SKEW_S) throw invalidToken(`The ID Token is not valid before ${nbf}.`);
  const sub = payload.sub;
  if (typeof sub !== 'string' || sub === '') throw invalidToken('The ID Token has no sub claim.');

  // 13. the role's trust policy: federated principal = this provider, conditions on sub and aud
  const role = deps.iam.role(roleArn);
  const audience = role === undefined ? undefined : accepted.find((a) => conditionMatches(role.trust.aud, a));
  const trusted =
    role !== undefined && deps.iam.trustsProvider(role, provider) && conditionMatches(role.trust.sub, sub) && audience !== undefined;
  // Authorised by the trust policy alone: the caller has no identity (the call is unsigned).
  recordEvaluations(log, [
    { action: 'sts:AssumeRoleWithWebIdentity', resource: roleArn, decision: trusted ? 'allowed' : 'implicitDeny', basis: 'trustPolicy' },
  ]);
  if (role === undefined || !trusted || audience === undefined) {
    throw new AwsError('AccessDenied', 'Not authorized to perform sts:AssumeRoleWithWebIdentity', 403);
  }

  // 14. duration within the role's maximum
  if (duration > role.maxSessionDuration) {
    throw new AwsError('ValidationError', 'The requested DurationSeconds exceeds the MaxSessionDuration set for this role.');
  }
  // 15. session policy grammar (JSON object; not evaluated further)
  checkPolicy(params.get('Policy'));

  const { Credentials, AssumedRoleUser } = issueRoleSession(deps, role, sessionName, duration);
  return {
    Credentials,
    SubjectFromWebIdentityToken: sub,
    AssumedRoleUser,
    Provider: provider.arn,
    Audience: audience,
  };
}

/** Issues the temporary credentials of an assumed-role session (AssumeRole and AssumeRoleWithWebIdentity). */
export function issueRoleSession(deps: Pick<StsDeps, 'credentials' | 'now'>, role: Role, sessionName: string, duration: number) {
  const assumedRoleArn = `arn:aws:sts::${role.accountId}:assumed-role/${role.roleName}/${sessionName}`;
  const assumedRoleId = `${role.roleId}:${sessionName}`;
  const session = deps.credentials.issue({
    expiration: deps.now() + duration * 1000,
    accountId: role.accountId,
    roleArn: role.arn,
    assumedRoleArn,
    assumedRoleId,
  });
  return {
    Credentials: {
      AccessKeyId: session.accessKeyId,
      SecretAccessKey: session.secretAccessKey,
      SessionToken: session.sessionToken,
      Expiration: isoSeconds(session.expiration),
    },
    AssumedRoleUser: { Arn: assumedRoleArn, AssumedRoleId: assumedRoleId },
  };
}

export function checkPolicy(policy: string | null): void {
  if (policy === null) return;
  let parsed: unknown;
  try {
    parsed = JSON.parse(policy);
  } catch {
    parsed = undefined;
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new AwsError('MalformedPolicyDocument', 'The policy is not in the valid JSON format.');
  }
}
