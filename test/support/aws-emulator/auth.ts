/**
 * SigV4 verification of an incoming request (aws-secrets-manager.md §5.3), in the order of the
 * spec's table: header shape, date and scope, clock skew, signed-header list, credential
 * identity (unknown / unpaired / expired session), payload hash, full signature recomputation.
 * Errors use the JSON-service codes; the STS layer translates them to its query-protocol codes.
 */
import { timingSafeEqual } from 'node:crypto';
import { AwsError } from './errors.js';
import { CredentialStore, IssuedSession, LONG_TERM_KEY, principalId } from './credentials.js';
import {
  ALGORITHM,
  amzDate,
  canonicalRequest,
  computeSignature,
  parseAmzDate,
  parseAuthorization,
  sha256Hex,
} from './sigv4.js';

/** The authenticated identity a request acts as. */
export interface Caller {
  accountId: string;
  accessKeyId: string;
  region: string;
  /** IAM user ARN for long-term keys, assumed-role ARN for sessions. */
  principalArn: string;
  userId: string;
  /**
   * Where the caller's identity policies live: the registered user of a long-term key, or the
   * role of a session. Absent for keys of no registered user (unrestricted).
   */
  policyHolderArn?: string;
  session?: IssuedSession;
}

export interface RawRequest {
  method: string;
  url: string;
  headers: Map<string, string[]>;
  body: Buffer;
}

/** AWS's allowed clock skew between X-Amz-Date and the server clock. */
const MAX_SKEW_MS = 5 * 60 * 1000;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/;

const MSG_INVALID_TOKEN = 'The security token included in the request is invalid.';
const MSG_SIGNATURE_MISMATCH =
  'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.';

function first(headers: Map<string, string[]>, name: string): string | undefined {
  return headers.get(name)?.[0];
}

/**
 * Verifies the request's signature for `service`.
 * @param now emulator clock (session expiry)
 * @param wallNow real clock (X-Amz-Date skew: the SDK signs with the machine clock and corrects it
 *   from our `Date` header, which is why both use the real clock and not the injectable one)
 */
export function authenticate(
  req: RawRequest,
  service: string,
  store: CredentialStore,
  now: number,
  wallNow: number,
): Caller {
  const header = first(req.headers, 'authorization');
  if (header === undefined || header.trim() === '') {
    throw new AwsError('MissingAuthenticationTokenException', 'Missing Authentication Token');
  }
  const auth = parseAuthorization(header.trim());
  if (auth.algorithm !== ALGORITHM) {
    throw new AwsError('IncompleteSignatureException', `Unsupported AWS 'algorithm': '${auth.algorithm}'`);
  }
  const missing: string[] = [];
  if (auth.accessKeyId === undefined) missing.push("Authorization header requires 'Credential' parameter.");
  if (auth.signature === undefined) missing.push("Authorization header requires 'Signature' parameter.");
  if (auth.signedHeaders === undefined) missing.push("Authorization header requires 'SignedHeaders' parameter.");
  const xAmzDate = first(req.headers, 'x-amz-date');
  if (xAmzDate === undefined) {
    missing.push("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.");
  }
  if (missing.length > 0) {
    throw new AwsError('IncompleteSignatureException', `${missing.join(' ')} Authorization=${header}`);
  }
  if (auth.scopeDate === undefined) {
    throw new AwsError(
      'IncompleteSignatureException',
      `Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '${header.match(/Credential=([^,]*)/)?.[1] ?? ''}'`,
    );
  }
  const signedAt = parseAmzDate(xAmzDate!);
  if (signedAt === undefined) {
    throw new AwsError(
      'IncompleteSignatureException',
      `Date must be in ISO-8601 'basic format'. Got '${xAmzDate}'. See http://en.wikipedia.org/wiki/ISO_8601`,
    );
  }
  if (auth.scopeDate !== xAmzDate!.slice(0, 8)) {
    throw new AwsError(
      'InvalidSignatureException',
      `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${auth.scopeDate}' != '${xAmzDate!.slice(0, 8)}', from '${xAmzDate}'.`,
    );
  }
  if (auth.terminator !== 'aws4_request') {
    throw new AwsError(
      'InvalidSignatureException',
      `Credential should be scoped with a valid terminator: 'aws4_request', not '${auth.terminator}'.`,
    );
  }
  if (auth.service !== service) {
    throw new AwsError('InvalidSignatureException', `Credential should be scoped to correct service: '${service}'. `);
  }
  if (!REGION.test(auth.region!)) {
    throw new AwsError('InvalidSignatureException', 'Credential should be scoped to a valid region. ');
  }
  if (signedAt < wallNow - MAX_SKEW_MS) {
    throw new AwsError(
      'InvalidSignatureException',
      `Signature expired: ${xAmzDate} is now earlier than ${amzDate(wallNow - MAX_SKEW_MS)} (${amzDate(wallNow)} - 5 min.)`,
    );
  }
  if (signedAt > wallNow + MAX_SKEW_MS) {
    throw new AwsError(
      'InvalidSignatureException',
      `Signature not yet current: ${xAmzDate} is still later than ${amzDate(wallNow + MAX_SKEW_MS)} (${amzDate(wallNow)} + 5 min.)`,
    );
  }
  const signed = auth.signedHeaders!;
  if (!signed.includes('host')) {
    throw new AwsError('InvalidSignatureException', "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.");
  }
  if (!signed.includes('x-amz-date')) {
    throw new AwsError('InvalidSignatureException', "'X-Amz-Date' must be a 'SignedHeader' in the AWS Authorization.");
  }
  const token = first(req.headers, 'x-amz-security-token');
  if (token !== undefined && !signed.includes('x-amz-security-token')) {
    throw new AwsError(
      'InvalidSignatureException',
      "'X-Amz-Security-Token' must be a 'SignedHeader' in the AWS Authorization.",
    );
  }

  const akid = auth.accessKeyId!;
  let secret: string | undefined;
  let caller: Caller;
  if (akid.startsWith('ASIA')) {
    const session = store.session(akid);
    // An ASIA key is only as good as the token it was issued with (spec §5.3).
    if (session === undefined || token === undefined || token !== session.sessionToken) {
      throw new AwsError('UnrecognizedClientException', MSG_INVALID_TOKEN);
    }
    if (now >= session.expiration) {
      throw new AwsError('ExpiredTokenException', 'The security token included in the request is expired');
    }
    secret = session.secretAccessKey;
    caller = {
      accountId: session.accountId,
      accessKeyId: akid,
      region: auth.region!,
      principalArn: session.assumedRoleArn,
      userId: session.assumedRoleId,
      policyHolderArn: session.roleArn,
      session,
    };
  } else if (LONG_TERM_KEY.test(akid)) {
    // Long-term keys never carry a session token.
    if (token !== undefined) throw new AwsError('UnrecognizedClientException', MSG_INVALID_TOKEN);
    const mapped = store.mappedKey(akid);
    secret = mapped?.secretAccessKey;
    const accountId = mapped?.accountId ?? store.defaultAccountId;
    caller = {
      accountId,
      accessKeyId: akid,
      region: auth.region!,
      principalArn: mapped?.user?.arn ?? `arn:aws:iam::${accountId}:user/${akid}`,
      userId: mapped?.user?.userId ?? principalId('AIDA', `${accountId}/${akid}`),
      ...(mapped?.user !== undefined ? { policyHolderArn: mapped.user.arn } : {}),
    };
  } else {
    throw new AwsError('UnrecognizedClientException', MSG_INVALID_TOKEN);
  }

  const payloadHash = sha256Hex(req.body);
  const declared = first(req.headers, 'x-amz-content-sha256');
  if (declared !== undefined && declared !== payloadHash) {
    throw new AwsError(
      'InvalidSignatureException',
      "The provided 'x-amz-content-sha256' header does not match what was computed.",
    );
  }
  if (!/^[0-9a-f]{64}$/.test(auth.signature!)) {
    throw new AwsError('InvalidSignatureException', MSG_SIGNATURE_MISMATCH);
  }
  // Unmapped AKIA keys: the emulator does not know their secret, so the shape checks above are
  // all it can do. Map the key (mapAccessKey) to have its signature verified.
  if (secret !== undefined) {
    const expected = computeSignature({
      canonicalRequest: canonicalRequest({
        method: req.method,
        url: req.url,
        headers: req.headers,
        signedHeaders: signed,
        payloadHash,
      }),
      amzDate: xAmzDate!,
      scopeDate: auth.scopeDate,
      region: auth.region!,
      service,
      secretAccessKey: secret,
    });
    if (!timingSafeEqual(Buffer.from(expected), Buffer.from(auth.signature!))) {
      throw new AwsError('InvalidSignatureException', MSG_SIGNATURE_MISMATCH);
    }
  }
  return caller;
}
