/**
 * The identity policies of Vault's secrets-sync guide, as fixtures (aws-iam-evaluation.md §6), for
 * the emulator's tests and the policy suites of issue 12.
 */

/** The guide's minimal policy: all Ferry needs to create, update, delete and tag `vault*` secrets. */
export const MINIMAL = {
  Version: '2012-10-17',
  Statement: [
    {
      Effect: 'Allow',
      Action: ['secretsmanager:Create*', 'secretsmanager:Update*', 'secretsmanager:Delete*', 'secretsmanager:TagResource'],
      Resource: 'arn:aws:secretsmanager:*:*:secret:vault*',
    },
  ],
} as const;

/** The tag Vault (and Ferry) puts on every secret it syncs. */
export const SYNC_TAG = 'hashicorp:vault';

/**
 * The sync identity restricted to tagged secrets, paired with what lets it create them: a secret
 * being created has no resource tag yet, so CreateSecret/TagResource are allowed on `vault*` names.
 */
export const TAG_CONDITIONED_SYNC = {
  Version: '2012-10-17',
  Statement: [
    {
      Sid: 'CreateVaultSecrets',
      Effect: 'Allow',
      Action: ['secretsmanager:CreateSecret', 'secretsmanager:TagResource'],
      Resource: 'arn:aws:secretsmanager:*:*:secret:vault*',
    },
    {
      Sid: 'OnlyTaggedSecrets',
      Effect: 'Allow',
      Action: ['secretsmanager:*'],
      Resource: '*',
      Condition: { StringEquals: { [`secretsmanager:ResourceTag/${SYNC_TAG}`]: '' } },
    },
  ],
} as const;

/**
 * Keeps an out-of-band writer off synced secrets. `StringEquals ""` denies exactly the tagged
 * secrets; the guide's `StringNotEquals ""` would deny the untagged ones instead (a negated
 * operator matches an absent key).
 */
export const OUT_OF_BAND_DENY = {
  Version: '2012-10-17',
  Statement: [
    {
      Sid: 'KeepOffSyncedSecrets',
      Effect: 'Deny',
      Action: ['secretsmanager:*'],
      Resource: '*',
      Condition: { StringEquals: { [`secretsmanager:ResourceTag/${SYNC_TAG}`]: '' } },
    },
  ],
} as const;

/** An out-of-band writer's ordinary allow, to pair with OUT_OF_BAND_DENY. */
export const ALLOW_ALL_SECRETS = {
  Version: '2012-10-17',
  Statement: [{ Sid: 'AllSecrets', Effect: 'Allow', Action: 'secretsmanager:*', Resource: '*' }],
} as const;
