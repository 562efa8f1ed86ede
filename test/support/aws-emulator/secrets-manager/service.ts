/**
 * Secrets Manager over awsJson1_1: `POST /` with `X-Amz-Target: secretsmanager.<Operation>`.
 * The one place that owns the wire format — SigV4, quota, JSON parsing, input validation,
 * dispatch, and the `{"__type","Message"}` error body with a matching `x-amzn-ErrorType`.
 */
import { authenticate, type RawRequest } from '../auth.js';
import { evaluateIdentity, identityDeniedMessage, recordEvaluations } from '../authorization.js';
import type { CredentialStore } from '../credentials.js';
import { AwsError } from '../errors.js';
import type { Iam } from '../iam.js';
import type { LogFields, ServiceReply } from '../log.js';
import type { QuotaLimiter } from '../quotas.js';
import { accessRequests } from './access.js';
import type { Handler, OpContext } from './context.js';
import { smErrors } from './errors.js';
import { deleteSecret, restoreSecret } from './lifecycle.js';
import { describeSecret, listSecrets, tagResource, untagResource } from './metadata.js';
import type { ListingViews } from './listing-views.js';
import type { PageTokens } from './paging.js';
import { removeRegionsFromReplication, replicateSecretToRegions } from './replication.js';
import { INPUT_SHAPES, UNIMPLEMENTED_OPERATIONS, validateInput, type OperationName } from './shapes.js';
import { newArnSuffix, type SecretsStore } from './store.js';
import {
  batchGetSecretValue,
  createSecret,
  getSecretValue,
  listSecretVersionIds,
  putSecretValue,
  updateSecret,
  updateSecretVersionStage,
} from './values.js';

/** Operation name → handler; the input shape of each lives in shapes.ts. */
const HANDLERS: { [K in OperationName]: Handler<any> } = {
  CreateSecret: createSecret,
  PutSecretValue: putSecretValue,
  UpdateSecret: updateSecret,
  DescribeSecret: describeSecret,
  GetSecretValue: getSecretValue,
  DeleteSecret: deleteSecret,
  RestoreSecret: restoreSecret,
  TagResource: tagResource,
  UntagResource: untagResource,
  ListSecrets: listSecrets,
  BatchGetSecretValue: batchGetSecretValue,
  ListSecretVersionIds: listSecretVersionIds,
  UpdateSecretVersionStage: updateSecretVersionStage,
  ReplicateSecretToRegions: replicateSecretToRegions,
  RemoveRegionsFromReplication: removeRegionsFromReplication,
};

/** Operations that change nothing a listing shows (reads only touch LastAccessedDate, which views ignore). */
const READ_ONLY = new Set<OperationName>(['DescribeSecret', 'GetSecretValue', 'ListSecrets', 'BatchGetSecretValue', 'ListSecretVersionIds']);

export const TARGET_PREFIX = 'secretsmanager.';
const CONTENT_TYPE = 'application/x-amz-json-1.1';

export interface SecretsManagerEnv {
  store: SecretsStore;
  pages: PageTokens;
  listing: ListingViews;
  credentials: CredentialStore;
  iam: Iam;
  quotas: QuotaLimiter;
  now(): number;
  wallNow(): number;
}

/** The operation named by an `X-Amz-Target` header (for logs and fault matching). */
export function operationOf(target: string): string {
  return target.startsWith(TARGET_PREFIX) ? target.slice(TARGET_PREFIX.length) : target;
}

export function jsonReply(status: number, body: unknown, log: LogFields): ServiceReply {
  return { status, headers: { 'content-type': CONTENT_TYPE }, body: JSON.stringify(body), log };
}

export function jsonError(err: AwsError, log: LogFields): ServiceReply {
  return {
    status: err.status,
    // Same value as __type: the SDK reads this header first and it would override the body.
    headers: { 'content-type': CONTENT_TYPE, 'x-amzn-errortype': err.code },
    body: JSON.stringify({ __type: err.code, Message: err.message }),
    log: { ...log, errorCode: err.code },
  };
}

/** Reads what the log wants from a body that may not validate. */
function logFieldsOf(body: unknown): Pick<LogFields, 'secretId' | 'clientRequestToken'> {
  if (body === null || typeof body !== 'object') return {};
  const b = body as Record<string, unknown>;
  const secretId = typeof b.SecretId === 'string' ? b.SecretId : typeof b.Name === 'string' ? b.Name : undefined;
  const token = typeof b.ClientRequestToken === 'string' ? b.ClientRequestToken : undefined;
  return { ...(secretId !== undefined ? { secretId } : {}), ...(token !== undefined ? { clientRequestToken: token } : {}) };
}

export function handleSecretsManager(env: SecretsManagerEnv, req: RawRequest, target: string): ServiceReply {
  const operation = operationOf(target);
  const log: LogFields = { operation };
  try {
    if (req.method !== 'POST') throw new AwsError('UnknownOperationException', `Secrets Manager only accepts POST, not ${req.method}.`);
    const caller = authenticate(req, 'secretsmanager', env.credentials, env.now(), env.wallNow());
    Object.assign(log, {
      accountId: caller.accountId,
      region: caller.region,
      accessKeyId: caller.accessKeyId,
      principalArn: caller.principalArn,
    });
    if (!target.startsWith(TARGET_PREFIX) || !(operation in HANDLERS)) {
      if (target.startsWith(TARGET_PREFIX) && UNIMPLEMENTED_OPERATIONS.has(operation)) {
        throw new AwsError('NotImplemented', `The AWS emulator does not implement secretsmanager.${operation}.`, 501);
      }
      throw new AwsError('UnknownOperationException', `Unknown operation ${target}.`);
    }
    const contentType = req.headers.get('content-type')?.[0]?.split(';')[0]?.trim().toLowerCase();
    if (contentType !== CONTENT_TYPE) {
      throw new AwsError('SerializationException', `Expected Content-Type ${CONTENT_TYPE}, got ${contentType ?? 'none'}.`);
    }
    if (!env.quotas.take(caller.accountId, caller.region, operation, env.now(), env.wallNow())) {
      throw new AwsError('ThrottlingException', 'Rate exceeded');
    }
    let body: unknown;
    try {
      body = JSON.parse(req.body.toString('utf8'));
    } catch {
      throw new AwsError('SerializationException', 'The request body is not valid JSON.');
    }
    Object.assign(log, logFieldsOf(body));
    const name = operation as OperationName;
    const input = validateInput(INPUT_SHAPES[name], body);
    const ctx: OpContext = {
      accountId: caller.accountId,
      region: caller.region,
      now: env.now(),
      principalArn: caller.principalArn,
      operation,
      store: env.store,
      pages: env.pages,
      listing: env.listing,
      newSecretSuffix: newArnSuffix(),
      authorize: (requests) => {
        const outcome = evaluateIdentity(env.iam, caller, requests);
        recordEvaluations(log, outcome.evaluations);
        if (outcome.denied !== undefined) {
          throw smErrors.identityAccessDenied(identityDeniedMessage(caller.principalArn, outcome.denied.evaluation, outcome.denied.shownAs));
        }
      },
    };
    // IAM decides before the operation reads or changes anything (a denied call changes nothing).
    ctx.authorize(accessRequests(ctx, name, input as Record<string, unknown>));
    const output = HANDLERS[name](ctx, input);
    if (!READ_ONLY.has(name)) env.listing.capture(env.store, caller.accountId, ctx.now);
    return jsonReply(200, output, log);
  } catch (e) {
    if (e instanceof AwsError) return jsonError(e, log);
    console.error('aws-emulator: internal error in', operation, e);
    return jsonError(new AwsError('InternalServiceError', 'An error occurred on the server side.', 500), log);
  }
}
