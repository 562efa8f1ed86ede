/**
 * STS dispatch: AssumeRoleWithWebIdentity (unsigned), AssumeRole and GetCallerIdentity (SigV4,
 * signing name `sts`). Form-encoded POST (or GET with the same query string) in, XML out.
 */
import { authenticate, type Caller, type RawRequest } from '../auth.js';
import { evaluateIdentity, identityDeniedMessage, recordEvaluations } from '../authorization.js';
import { AwsError } from '../errors.js';
import type { LogFields, ServiceReply } from '../log.js';
import type { QuotaLimiter } from '../quotas.js';
import { parseRoleArn, STS_VERSION, stsAuthError, validateParams, xmlError, xmlReply } from './protocol.js';
import { assumeRoleWithWebIdentity, checkPolicy, issueRoleSession, SESSION_NAME_PATTERN, type StsDeps } from './web-identity.js';

export interface StsEnv extends StsDeps {
  quotas: QuotaLimiter;
  wallNow(): number;
}

/** Region used for quota buckets of unsigned calls (they carry no credential scope). */
const UNSIGNED_REGION = 'global';
/** Role chaining caps sessions at one hour. */
const CHAINED_MAX_S = 3600;

/** The form parameters of an STS request (POST body or GET query string). */
export function stsParams(req: RawRequest): URLSearchParams {
  if (req.method === 'GET') {
    const q = req.url.indexOf('?');
    return new URLSearchParams(q < 0 ? '' : req.url.slice(q + 1));
  }
  return new URLSearchParams(req.body.toString('utf8'));
}

/**
 * AssumeRole needs both: the caller's identity policies must allow `sts:AssumeRole` on the role
 * (an unrestricted caller passes), then the role's trust policy must accept the caller.
 */
function assumeRole(env: StsEnv, caller: Caller, params: URLSearchParams, log: LogFields): Record<string, unknown> {
  validateParams(params, [
    { name: 'RoleArn', required: true, min: 20, max: 2048 },
    { name: 'RoleSessionName', required: true, min: 2, max: 64, pattern: SESSION_NAME_PATTERN },
    { name: 'DurationSeconds', integer: { min: 900, max: 43_200 } },
    { name: 'ExternalId', min: 2, max: 1224, pattern: '[\\w+=,.@:\\/-]*' },
    { name: 'Policy', min: 1, max: 2048, pattern: '[\\u0009\\u000A\\u000D\\u0020-\\u00FF]+' },
    { name: 'SourceIdentity', min: 2, max: 64, pattern: SESSION_NAME_PATTERN },
  ]);
  const roleArn = params.get('RoleArn')!;
  const sessionName = params.get('RoleSessionName')!;
  const duration = Number(params.get('DurationSeconds') ?? 3600);
  parseRoleArn(roleArn);
  const identity = evaluateIdentity(env.iam, caller, [{ action: 'sts:AssumeRole', resource: roleArn }]);
  recordEvaluations(log, identity.evaluations);
  if (identity.denied !== undefined) {
    throw new AwsError('AccessDenied', identityDeniedMessage(caller.principalArn, identity.denied.evaluation), 403);
  }
  const role = env.iam.role(roleArn);
  const trustedAccount = role?.trust.principalAccount ?? (role?.trust.provider === undefined ? role?.accountId : undefined);
  const externalIdOk = role?.trust.externalId === undefined || role.trust.externalId === params.get('ExternalId');
  const trusted = role !== undefined && trustedAccount === caller.accountId && externalIdOk;
  recordEvaluations(log, [
    { action: 'sts:AssumeRole', resource: roleArn, decision: trusted ? 'allowed' : 'implicitDeny', basis: 'trustPolicy' },
  ]);
  if (!trusted) {
    throw new AwsError(
      'AccessDenied',
      `User: ${caller.principalArn} is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`,
      403,
    );
  }
  if (caller.session !== undefined && duration > CHAINED_MAX_S) {
    throw new AwsError(
      'ValidationError',
      'The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.',
    );
  }
  if (duration > role.maxSessionDuration) {
    throw new AwsError('ValidationError', 'The requested DurationSeconds exceeds the MaxSessionDuration set for this role.');
  }
  checkPolicy(params.get('Policy'));
  return {
    ...issueRoleSession(env, role, sessionName, duration),
    SourceIdentity: params.get('SourceIdentity') ?? undefined,
  };
}

export async function handleSts(env: StsEnv, req: RawRequest, requestId: string): Promise<ServiceReply> {
  const params = stsParams(req);
  const action = params.get('Action') ?? '';
  const log: LogFields = { operation: action };
  try {
    if (req.method === 'POST') {
      const contentType = req.headers.get('content-type')?.[0]?.split(';')[0]?.trim().toLowerCase();
      if (contentType !== 'application/x-www-form-urlencoded') {
        throw new AwsError('InvalidAction', `STS expects application/x-www-form-urlencoded, got ${contentType ?? 'none'}.`);
      }
    }
    const known = ['AssumeRoleWithWebIdentity', 'AssumeRole', 'GetCallerIdentity'];
    if (!known.includes(action) || params.get('Version') !== STS_VERSION) {
      throw new AwsError('InvalidAction', `Could not find operation ${action} for version ${params.get('Version') ?? 'NO_VERSION_SPECIFIED'}`);
    }
    if (action === 'AssumeRoleWithWebIdentity') {
      // Unsigned by design (smithy noAuth): never require or check Authorization here.
      // Throttled per the role's account (the caller has no other identity); a malformed RoleArn
      // skips the bucket and fails validation inside the pipeline.
      const roleAccount = /^arn:aws[a-z-]*:iam::(\d{12}):/.exec(params.get('RoleArn') ?? '')?.[1];
      if (roleAccount !== undefined && !env.quotas.take(roleAccount, UNSIGNED_REGION, action, env.now(), env.wallNow())) {
        log.accountId = roleAccount;
        throw new AwsError('Throttling', 'Rate exceeded');
      }
      return xmlReply(action, await assumeRoleWithWebIdentity(env, params, log), requestId, log);
    }
    let caller: Caller;
    try {
      caller = authenticate(req, 'sts', env.credentials, env.now(), env.wallNow());
    } catch (e) {
      throw e instanceof AwsError ? stsAuthError(e) : e;
    }
    Object.assign(log, {
      accountId: caller.accountId,
      region: caller.region,
      accessKeyId: caller.accessKeyId,
      principalArn: caller.principalArn,
    });
    if (!env.quotas.take(caller.accountId, caller.region, action, env.now(), env.wallNow())) {
      throw new AwsError('Throttling', 'Rate exceeded');
    }
    if (action === 'AssumeRole') return xmlReply(action, assumeRole(env, caller, params, log), requestId, log);
    // GetCallerIdentity needs no permission: even an explicit deny cannot refuse it.
    recordEvaluations(log, [{ action: 'sts:GetCallerIdentity', resource: '*', decision: 'allowed', basis: 'alwaysAllowed' }]);
    return xmlReply(action, { UserId: caller.userId, Account: caller.accountId, Arn: caller.principalArn }, requestId, log);
  } catch (e) {
    if (e instanceof AwsError) return xmlError(e, requestId, log);
    console.error('aws-emulator: internal error in STS', action, e);
    return xmlError(new AwsError('InternalFailure', 'An internal error occurred.', 500), requestId, log);
  }
}
