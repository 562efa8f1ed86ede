/**
 * What each Secrets Manager operation asks IAM (aws-iam-evaluation.md §2–§5): the actions, the
 * resource each applies to, and the condition keys of the request. Checked after the input shape
 * and the name are validated and before the operation touches anything, so a denied call changes
 * nothing.
 *
 * Resource: the secret's real ARN (with its random suffix) when the SecretId finds one; for a
 * secret that does not exist, `arn:aws:secretsmanager:<region>:<account>:secret:<name>` (chosen:
 * AWS evaluates some ARN for it; a `secret:vault*` pattern matches it, a `secret:<name>-??????`
 * one does not), or the ARN as sent; for CreateSecret the ARN the new secret will get.
 */
import type { AccessRequest } from '../authorization.js';
import { AwsError } from '../errors.js';
import type { OpContext } from './context.js';
import { smErrors } from './errors.js';
import type { OperationName } from './shapes.js';
import { isValidName, secretArn, type SecretRecord, type Tag } from './store.js';

const SM = 'secretsmanager:';
type KeyPairs = Array<readonly [string, string | readonly string[] | undefined]>;

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/**
 * The IAM actions a call needs, read from its body even when the body is invalid (for the log):
 * CreateSecret with Tags also needs TagResource, with AddReplicaRegions also
 * ReplicateSecretToRegions; BatchGetSecretValue needs GetSecretValue on each secret.
 */
export function requiredActions(operation: string, body: unknown): string[] {
  const b = isObject(body) ? body : {};
  const actions = [`${SM}${operation}`];
  if (operation === 'CreateSecret') {
    if (Array.isArray(b.Tags) && b.Tags.length > 0) actions.push(`${SM}TagResource`);
    if (Array.isArray(b.AddReplicaRegions) && b.AddReplicaRegions.length > 0) actions.push(`${SM}ReplicateSecretToRegions`);
  }
  if (operation === 'BatchGetSecretValue') actions.push(`${SM}GetSecretValue`);
  return actions;
}

/** `secretsmanager:ResourceTag/<key>` and `aws:ResourceTag/<key>` of an existing secret. */
function resourceTagKeys(record: SecretRecord | undefined): KeyPairs {
  return (record?.core.tags ?? []).flatMap((t) => [
    [`secretsmanager:ResourceTag/${t.Key}`, t.Value] as const,
    [`aws:ResourceTag/${t.Key}`, t.Value] as const,
  ]);
}

/** `aws:RequestTag/<key>` for each tag sent, and `aws:TagKeys` (multi-valued). */
function requestTagKeys(tags: readonly Tag[] | undefined): KeyPairs {
  if (tags === undefined || tags.length === 0) return [];
  return [...tags.map((t) => [`aws:RequestTag/${t.Key}`, t.Value] as const), ['aws:TagKeys', tags.map((t) => t.Key)] as const];
}

/** The resource a SecretId names, and the secret if it exists in the caller's namespace. */
export function secretTarget(ctx: OpContext, secretId: string): { resource: string; record?: SecretRecord } {
  try {
    const record = ctx.store.resolve(ctx, secretId);
    return { resource: record.arn, record };
  } catch (e) {
    // Not found, or another account's ARN (whose resource policy the operation then refuses):
    // IAM still decides first, on the ARN the id names.
    if (!(e instanceof AwsError) || (e.code !== 'ResourceNotFoundException' && e.code !== 'AccessDeniedException')) throw e;
    return { resource: secretId.startsWith('arn:') ? secretId : secretArnWithoutSuffix(ctx, secretId) };
  }
}

function secretArnWithoutSuffix(ctx: OpContext, name: string): string {
  return `arn:aws:secretsmanager:${ctx.region}:${ctx.accountId}:secret:${name}`;
}

/** GetSecretValue on one secret of a BatchGetSecretValue. */
export function getSecretValueRequest(ctx: OpContext, secretId: string, record?: SecretRecord): AccessRequest {
  const target = record !== undefined ? { resource: record.arn, record } : secretTarget(ctx, secretId);
  return {
    action: `${SM}GetSecretValue`,
    resource: target.resource,
    shownAs: secretId,
    keys: [['secretsmanager:SecretId', secretId], ...resourceTagKeys(target.record)],
  };
}

/** The checks one call needs before its operation runs. */
export function accessRequests(ctx: OpContext, operation: OperationName, input: Record<string, unknown>): AccessRequest[] {
  const action = `${SM}${operation}`;
  if (operation === 'ListSecrets' || operation === 'BatchGetSecretValue') return [{ action, resource: '*' }];
  if (operation === 'CreateSecret') {
    const name = input.Name as string;
    if (!isValidName(name)) throw smErrors.invalidName();
    const tags = input.Tags as Tag[] | undefined;
    // The secret does not exist yet: no ResourceTag keys (spec §4), only the request's tags.
    const keys: KeyPairs = [['secretsmanager:Name', name], ...requestTagKeys(tags)];
    const resource = secretArn(ctx.region, ctx.accountId, name, ctx.newSecretSuffix);
    return requiredActions(operation, input).map((a) => ({ action: a, resource, shownAs: name, keys }));
  }
  const secretId = input.SecretId as string;
  const target = secretTarget(ctx, secretId);
  const keys: KeyPairs = [['secretsmanager:SecretId', secretId], ...resourceTagKeys(target.record)];
  if (operation === 'TagResource') keys.push(...requestTagKeys(input.Tags as Tag[]));
  if (operation === 'UntagResource') keys.push(['aws:TagKeys', input.TagKeys as string[]]);
  return [{ action, resource: target.resource, shownAs: secretId, keys }];
}
