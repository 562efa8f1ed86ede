/**
 * The Secrets Manager error catalogue: every error the emulator's Secrets Manager side answers
 * with, with AWS's wire code and (where recorded) its exact message. Messages marked "chosen" in
 * comments stand where the spec has no recorded AWS text.
 */
import { AwsError } from '../errors.js';

export const smErrors = {
  secretNotFound: () => new AwsError('ResourceNotFoundException', "Secrets Manager can't find the specified secret."),
  noValueForStage: (label: string) =>
    new AwsError('ResourceNotFoundException', `Secrets Manager can't find the specified secret value for staging label: ${label}`),
  noValueForVersion: (id: string) =>
    new AwsError('ResourceNotFoundException', `Secrets Manager can't find the specified secret value for VersionId: ${id}`),
  stageNotOnVersion: () =>
    new AwsError('InvalidRequestException', 'You provided a VersionStage that is not associated to the provided VersionId.'),
  markedForDeletion: () =>
    new AwsError('InvalidRequestException', "You can't perform this operation on the secret because it was marked for deletion."),
  createWhileScheduled: () =>
    new AwsError(
      'InvalidRequestException',
      "You can't create this secret because a secret with this name is already scheduled for deletion.",
    ),
  // chosen (spec: "Already scheduled, no force" wording unconfirmed)
  alreadyScheduled: () =>
    new AwsError(
      'InvalidRequestException',
      "You can't perform this operation on the secret because it was already scheduled for deletion.",
    ),
  tokenInUse: (token: string, arn: string) =>
    new AwsError(
      'ResourceExistsException',
      `You can't use ClientRequestToken ${token} because that value is already in use for a version of secret ${arn}.`,
    ),
  secretExists: (name: string) =>
    new AwsError('ResourceExistsException', `The operation failed because the secret ${name} already exists.`),
  tokenMissing: () =>
    new AwsError('InvalidRequestException', 'You must provide a ClientRequestToken value. We recommend a UUID-type value.'),
  // chosen (spec: InvalidParameterException likely, wording unconfirmed)
  tokenLength: () =>
    new AwsError('InvalidParameterException', 'ClientRequestToken must be between 32 and 64 characters long.'),
  invalidName: () =>
    new AwsError(
      'ValidationException',
      'Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!',
    ),
  // chosen wording (spec: InvalidParameterException, wording unconfirmed)
  bothValues: () =>
    new AwsError(
      'InvalidParameterException',
      "You can't specify both a binary secret value and a string secret value in the same secret.",
    ),
  // spec's unconfirmed wording
  noValue: () => new AwsError('InvalidRequestException', 'You must provide either SecretString or SecretBinary.'),
  // chosen: the model length is in characters, the quota in bytes; a multi-byte value under the
  // character limit but over 65,536 bytes is refused here.
  valueTooLarge: () =>
    new AwsError('InvalidParameterException', 'The secret value exceeds the maximum allowed size of 65536 bytes.'),
  // spec's unconfirmed wordings
  forceWithWindow: () =>
    new AwsError(
      'InvalidParameterException',
      "You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.",
    ),
  recoveryWindow: () =>
    new AwsError(
      'InvalidParameterException',
      'The RecoveryWindowInDays value must be between 7 and 30 days (inclusive).',
    ),
  // chosen
  tooManyTags: () =>
    new AwsError('InvalidParameterException', 'A secret can have at most 50 user tags.'),
  // chosen
  reservedTagPrefix: (key: string) =>
    new AwsError('InvalidParameterException', `Tag key ${key} is invalid: the aws: prefix is reserved for AWS use.`),
  // chosen
  tooManyVersions: () =>
    new AwsError(
      'LimitExceededException',
      'You have exceeded the maximum number of versions allowed for this secret within 24 hours.',
    ),
  replicaReadOnly: () =>
    new AwsError(
      'InvalidRequestException',
      "Operation not permitted on a replica secret. Call must be made in primary secret's region.",
    ),
  // chosen
  deleteWithReplicas: (name: string, regions: string[]) =>
    new AwsError(
      'InvalidRequestException',
      `You can't delete secret ${name} that still has replica regions [${regions.join(', ')}]. Remove the replicas first.`,
    ),
  // chosen
  replicaSameRegion: (region: string) =>
    new AwsError('InvalidParameterException', `Invalid replica region ${region}: it is the primary region of the secret.`),
  // chosen
  batchSelector: () =>
    new AwsError(
      'InvalidParameterException',
      'Either SecretIdList or Filters must be provided, but not both; MaxResults can only be used with Filters.',
    ),
  // chosen
  invalidNextToken: () => new AwsError('InvalidNextTokenException', 'The NextToken value is invalid.'),
  /** Refused by the caller's identity policies (message from authorization.ts). */
  identityAccessDenied: (message: string) => new AwsError('AccessDeniedException', message),
  accessDenied: (principal: string, op: string, resource: string) =>
    new AwsError(
      'AccessDeniedException',
      `User: ${principal} is not authorized to perform: secretsmanager:${op} on resource: ${resource} because no resource-based policy allows the secretsmanager:${op} action`,
    ),
  // UpdateSecretVersionStage (chosen wordings)
  moveCurrentWithoutRemove: (stage: string, holder: string) =>
    new AwsError(
      'InvalidParameterException',
      `The parameter RemoveFromVersionId can't be empty. Staging label ${stage} is currently attached to version ${holder}, so you must explicitly reference that version in RemoveFromVersionId.`,
    ),
  stageNotOnRemoveVersion: (stage: string, version: string) =>
    new AwsError(
      'InvalidParameterException',
      `The staging label ${stage} is not attached to version ${version}.`,
    ),
  // chosen
  tooManyStages: () => new AwsError('LimitExceededException', 'A version can have at most 20 staging labels.'),
};
