/**
 * Tag conditions enforced on Secrets Manager through the real SDK over HTTP: the tag-conditioned
 * sync identity and out-of-band writer of issue 12 (aws-iam-evaluation.md §6), and condition
 * operators on resource tags, present and absent.
 */
import {
  CreateSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  UpdateSecretCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { describe, expect, it } from 'vitest';
import { ALLOW_ALL_SECRETS, OUT_OF_BAND_DENY, SYNC_TAG, TAG_CONDITIONED_SYNC } from '../support/aws-emulator/guide-policies.js';
import {
  deniedMessage,
  destroyAfterTest,
  expectAwsError,
  onePolicy,
  REGION,
  registerUser,
  smClient,
  useEmulator,
  type Credentials,
} from './helpers.js';

/** `admin` has no policy (unrestricted): it sets the scene. */
const { emu, sm: admin } = useEmulator();

function client(credentials: Credentials): SecretsManagerClient {
  return destroyAfterTest(smClient(emu, { credentials }));
}

function user(name: string, policies: Record<string, unknown>): { arn: string; sm: SecretsManagerClient; credentials: Credentials } {
  const { arn, credentials } = registerUser(emu, name, policies);
  return { arn, sm: client(credentials), credentials };
}

const token = (n: number) => `${String(n).padStart(8, '0')}-aaaa-bbbb-cccc-dddddddddddd`;
const SYNC_TAGS = [{ Key: SYNC_TAG, Value: '' }];

describe('the tag-conditioned pair from issue 12', () => {
  it('the sync identity works on its tagged secrets only; an out-of-band writer is kept off them', async () => {
    const sync = user('ferry-sync', { sync: TAG_CONDITIONED_SYNC });
    const writer = user('writer', { all: ALLOW_ALL_SECRETS, keepOff: OUT_OF_BAND_DENY });
    await admin.send(new CreateSecretCommand({ Name: 'vault/legacy', SecretString: 'old' }));

    // A secret being created has no resource tag: only the vault* statement lets it through.
    await sync.sm.send(new CreateSecretCommand({ Name: 'vault/app', SecretString: 'v1', Tags: SYNC_TAGS }));
    await expectAwsError(sync.sm.send(new CreateSecretCommand({ Name: 'prod/app', SecretString: 'v1', Tags: SYNC_TAGS })), 'AccessDeniedException');
    await sync.sm.send(new UpdateSecretCommand({ SecretId: 'vault/app', SecretString: 'v2', ClientRequestToken: token(2) }));
    await sync.sm.send(new PutSecretValueCommand({ SecretId: 'vault/app', SecretString: 'v3', ClientRequestToken: token(3) }));
    expect((await sync.sm.send(new DescribeSecretCommand({ SecretId: 'vault/app' }))).Tags).toEqual(SYNC_TAGS);

    // The pre-existing untagged secret at a target name is out of reach.
    for (const call of [
      sync.sm.send(new DescribeSecretCommand({ SecretId: 'vault/legacy' })),
      sync.sm.send(new UpdateSecretCommand({ SecretId: 'vault/legacy', SecretString: 'x', ClientRequestToken: token(4) })),
    ]) {
      await expectAwsError(call, 'AccessDeniedException');
    }
    expect(emu.getSecret(REGION, 'vault/legacy')!.versions.map((v) => v.secretString)).toEqual(['old']);

    // The out-of-band writer: denied on the tagged secret, free on the untagged one.
    await expectAwsError(
      writer.sm.send(new PutSecretValueCommand({ SecretId: 'vault/app', SecretString: 'evil', ClientRequestToken: token(5) })),
      'AccessDeniedException',
      deniedMessage(writer.arn, 'secretsmanager:PutSecretValue', 'vault/app', true),
    );
    await writer.sm.send(new PutSecretValueCommand({ SecretId: 'vault/legacy', SecretString: 'new', ClientRequestToken: token(6) }));
    expect(emu.requestLog({ principalArn: writer.arn, decision: 'explicitDeny' })[0].evaluations![0].statement).toEqual({
      policy: 'keepOff',
      index: 0,
      sid: 'KeepOffSyncedSecrets',
    });
  });

  it("the guide's StringNotEquals form denies the opposite set: untagged secrets, not the synced ones", async () => {
    await admin.send(new CreateSecretCommand({ Name: 'vault/app', SecretString: 'v1', Tags: SYNC_TAGS }));
    await admin.send(new CreateSecretCommand({ Name: 'vault/legacy', SecretString: 'old' }));
    const asWritten = user('writer', {
      all: ALLOW_ALL_SECRETS,
      guideDeny: onePolicy({ Effect: 'Deny', Action: 'secretsmanager:*', Resource: '*', Condition: { StringNotEquals: { [`secretsmanager:ResourceTag/${SYNC_TAG}`]: '' } } }),
    });
    await asWritten.sm.send(new PutSecretValueCommand({ SecretId: 'vault/app', SecretString: 'evil', ClientRequestToken: token(1) }));
    await expectAwsError(
      asWritten.sm.send(new PutSecretValueCommand({ SecretId: 'vault/legacy', SecretString: 'x', ClientRequestToken: token(2) })),
      'AccessDeniedException',
      deniedMessage(asWritten.arn, 'secretsmanager:PutSecretValue', 'vault/legacy', true),
    );
  });

  it('aws:ResourceTag and secretsmanager:ResourceTag name the same tags, and a StringLike condition sees them', async () => {
    await admin.send(new CreateSecretCommand({ Name: 'a', SecretString: 'x', Tags: [{ Key: 'team', Value: 'payments-eu' }] }));
    await admin.send(new CreateSecretCommand({ Name: 'b', SecretString: 'x', Tags: [{ Key: 'team', Value: 'search' }] }));
    await admin.send(new CreateSecretCommand({ Name: 'c', SecretString: 'x' }));
    for (const [i, key] of ['aws:ResourceTag/team', 'secretsmanager:ResourceTag/team', 'AWS:resourcetag/TEAM'].entries()) {
      const reader = user(`reader-${i}`, {
        read: onePolicy({ Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: '*', Condition: { StringLike: { [key]: 'payments-*' } } }),
      });
      await reader.sm.send(new GetSecretValueCommand({ SecretId: 'a' }));
      await expectAwsError(reader.sm.send(new GetSecretValueCommand({ SecretId: 'b' })), 'AccessDeniedException');
      await expectAwsError(reader.sm.send(new GetSecretValueCommand({ SecretId: 'c' })), 'AccessDeniedException');
    }
  });

  it('StringNotLike and Null on a resource tag: present and absent', async () => {
    await admin.send(new CreateSecretCommand({ Name: 'tagged', SecretString: 'x', Tags: [{ Key: 'env', Value: 'prod' }] }));
    await admin.send(new CreateSecretCommand({ Name: 'untagged', SecretString: 'x' }));
    const notLike = user('not-like', {
      p: onePolicy({ Effect: 'Allow', Action: 'secretsmanager:DescribeSecret', Resource: '*', Condition: { StringNotLike: { 'aws:ResourceTag/env': 'pr*' } } }),
    });
    await expectAwsError(notLike.sm.send(new DescribeSecretCommand({ SecretId: 'tagged' })), 'AccessDeniedException');
    await notLike.sm.send(new DescribeSecretCommand({ SecretId: 'untagged' }));
    const mustBeTagged = user('must-be-tagged', {
      p: onePolicy({ Effect: 'Allow', Action: 'secretsmanager:DescribeSecret', Resource: '*', Condition: { Null: { 'aws:ResourceTag/env': 'false' } } }),
    });
    await mustBeTagged.sm.send(new DescribeSecretCommand({ SecretId: 'tagged' }));
    await expectAwsError(mustBeTagged.sm.send(new DescribeSecretCommand({ SecretId: 'untagged' })), 'AccessDeniedException');
  });
});
