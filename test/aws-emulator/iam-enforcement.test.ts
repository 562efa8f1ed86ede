/**
 * The emulator enforcing identity policies on Secrets Manager, through the real SDK over HTTP
 * (aws-iam-evaluation.md): the guide's minimal policy, explicit deny, wildcard ARNs, CreateSecret's
 * extra actions, missing secrets, the denied answer, and "no policy = full access". Tag
 * conditions: iam-tag-conditions.test.ts.
 */
import {
  BatchGetSecretValueCommand,
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  PutSecretValueCommand,
  ReplicateSecretToRegionsCommand,
  RestoreSecretCommand,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateSecretCommand,
  UpdateSecretVersionStageCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { describe, expect, it } from 'vitest';
import { ALLOW_ALL_SECRETS, MINIMAL, SYNC_TAG } from '../support/aws-emulator/guide-policies.js';
import {
  ACCOUNT,
  deniedMessage,
  destroyAfterTest,
  expectAwsError,
  onePolicy,
  rawSecretsManager,
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

describe('the guide minimal policy (Create*, Update*, Delete*, TagResource on secret:vault*)', () => {
  it('creates, updates with UpdateSecret, deletes; refuses every call outside the four', async () => {
    const sync = user('ferry-sync', { minimal: MINIMAL });
    const created = await sync.sm.send(
      new CreateSecretCommand({ Name: 'vault/app', SecretString: 'v1', ClientRequestToken: token(1), Tags: SYNC_TAGS }),
    );
    expect(created.ARN).toMatch(new RegExp(`^arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:vault/app-[A-Za-z0-9]{6}$`));

    // Value writes through UpdateSecret with SecretString: a new version, AWSCURRENT moved.
    await sync.sm.send(new UpdateSecretCommand({ SecretId: 'vault/app', SecretString: 'v2', ClientRequestToken: token(2) }));
    const after = emu.getSecret(REGION, 'vault/app')!;
    expect(after.versions.find((v) => v.stages.includes('AWSCURRENT'))).toMatchObject({ versionId: token(2), secretString: 'v2' });

    const refused: Array<[string, Promise<unknown>]> = [
      ['secretsmanager:PutSecretValue', sync.sm.send(new PutSecretValueCommand({ SecretId: 'vault/app', SecretString: 'v3', ClientRequestToken: token(3) }))],
      ['secretsmanager:DescribeSecret', sync.sm.send(new DescribeSecretCommand({ SecretId: 'vault/app' }))],
      ['secretsmanager:GetSecretValue', sync.sm.send(new GetSecretValueCommand({ SecretId: 'vault/app' }))],
      ['secretsmanager:UntagResource', sync.sm.send(new UntagResourceCommand({ SecretId: 'vault/app', TagKeys: [SYNC_TAG] }))],
      ['secretsmanager:RestoreSecret', sync.sm.send(new RestoreSecretCommand({ SecretId: 'vault/app' }))],
      ['secretsmanager:ReplicateSecretToRegions', sync.sm.send(new ReplicateSecretToRegionsCommand({ SecretId: 'vault/app', AddReplicaRegions: [{ Region: 'us-east-1' }] }))],
    ];
    for (const [action, call] of refused) {
      await expectAwsError(call, 'AccessDeniedException', deniedMessage(sync.arn, action, 'vault/app'));
    }
    await expectAwsError(sync.sm.send(new ListSecretsCommand({})), 'AccessDeniedException', deniedMessage(sync.arn, 'secretsmanager:ListSecrets', '*'));

    await sync.sm.send(new UpdateSecretVersionStageCommand({ SecretId: 'vault/app', VersionStage: 'AWSCURRENT', MoveToVersionId: token(1), RemoveFromVersionId: token(2) }));
    await sync.sm.send(new TagResourceCommand({ SecretId: 'vault/app', Tags: [{ Key: 'owner', Value: 'ferry' }] }));
    await sync.sm.send(new DeleteSecretCommand({ SecretId: 'vault/app', RecoveryWindowInDays: 7 }));
    await expectAwsError(sync.sm.send(new RestoreSecretCommand({ SecretId: 'vault/app' })), 'AccessDeniedException', deniedMessage(sync.arn, 'secretsmanager:RestoreSecret', 'vault/app'));
    await sync.sm.send(new DeleteSecretCommand({ SecretId: 'vault/app', ForceDeleteWithoutRecovery: true }));
    expect(emu.getSecret(REGION, 'vault/app')).toBeUndefined();

    // The log: nothing outside the four was allowed, and exactly the refused calls were denied.
    const allowedOutside = emu.requestLog({ decision: 'allowed', notAction: MINIMAL.Statement[0].Action });
    expect(allowedOutside).toEqual([]);
    expect(emu.requestLog({ decision: 'denied' }).map((e) => e.operation)).toEqual([
      'PutSecretValue',
      'DescribeSecret',
      'GetSecretValue',
      'UntagResource',
      'RestoreSecret',
      'ReplicateSecretToRegions',
      'ListSecrets',
      'RestoreSecret',
    ]);
  });

  it('matches secret:vault* against the real ARN: a vault name yes, prod/ names (even prod/vault) no', async () => {
    const sync = user('ferry-sync', { minimal: MINIMAL });
    await sync.sm.send(new CreateSecretCommand({ Name: 'vault-db', SecretString: 'x', ClientRequestToken: token(1) }));
    for (const name of ['prod/app', 'prod/vault', 'Vault/app']) {
      await expectAwsError(
        sync.sm.send(new CreateSecretCommand({ Name: name, SecretString: 'x', ClientRequestToken: token(2) })),
        'AccessDeniedException',
        deniedMessage(sync.arn, 'secretsmanager:CreateSecret', name),
      );
      expect(emu.getSecret(REGION, name)).toBeUndefined();
    }
    await admin.send(new CreateSecretCommand({ Name: 'prod/app', SecretString: 'x', ClientRequestToken: token(3) }));
    await expectAwsError(
      sync.sm.send(new UpdateSecretCommand({ SecretId: 'prod/app', SecretString: 'y', ClientRequestToken: token(4) })),
      'AccessDeniedException',
      deniedMessage(sync.arn, 'secretsmanager:UpdateSecret', 'prod/app'),
    );
  });
});

describe('the denied answer', () => {
  it('is HTTP 400 AccessDeniedException in the awsJson shape, naming the principal, the action and the resource as sent', async () => {
    const sync = user('ferry-sync', { minimal: MINIMAL });
    await admin.send(new CreateSecretCommand({ Name: 'vault/app', SecretString: 'x' }));
    const arn = emu.getSecret(REGION, 'vault/app')!.arn;
    const res = await rawSecretsManager(emu, 'secretsmanager.GetSecretValue', JSON.stringify({ SecretId: arn }), { credentials: sync.credentials });
    expect(res.status).toBe(400);
    expect(res.headers.get('x-amzn-errortype')).toBe('AccessDeniedException');
    expect(res.json()).toEqual({ __type: 'AccessDeniedException', Message: deniedMessage(sync.arn, 'secretsmanager:GetSecretValue', arn) });
  });

  it('says "explicit deny" when a Deny decided, even over an Allow', async () => {
    const writer = user('writer', {
      all: ALLOW_ALL_SECRETS,
      noDelete: onePolicy({ Sid: 'NoDelete', Effect: 'Deny', Action: 'secretsmanager:Delete*', Resource: 'arn:aws:secretsmanager:*:*:secret:vault*' }),
    });
    await writer.sm.send(new CreateSecretCommand({ Name: 'vault/app', SecretString: 'x' }));
    await expectAwsError(
      writer.sm.send(new DeleteSecretCommand({ SecretId: 'vault/app', ForceDeleteWithoutRecovery: true })),
      'AccessDeniedException',
      deniedMessage(writer.arn, 'secretsmanager:DeleteSecret', 'vault/app', true),
    );
    expect(emu.getSecret(REGION, 'vault/app')).toBeDefined();
    await writer.sm.send(new CreateSecretCommand({ Name: 'other', SecretString: 'x' }));
    await writer.sm.send(new DeleteSecretCommand({ SecretId: 'other', ForceDeleteWithoutRecovery: true }));
  });

  it('a denied call changes nothing', async () => {
    await admin.send(new CreateSecretCommand({ Name: 'app', SecretString: 'v1', ClientRequestToken: token(1), Tags: [{ Key: 'k', Value: 'v' }] }));
    const before = emu.getSecret(REGION, 'app');
    const frozen = user('frozen', { deny: onePolicy({ Effect: 'Deny', Action: '*', Resource: '*' }) });
    const calls: Promise<unknown>[] = [
      frozen.sm.send(new UpdateSecretCommand({ SecretId: 'app', SecretString: 'v2', ClientRequestToken: token(2), Description: 'd' })),
      frozen.sm.send(new PutSecretValueCommand({ SecretId: 'app', SecretString: 'v3', ClientRequestToken: token(3) })),
      frozen.sm.send(new TagResourceCommand({ SecretId: 'app', Tags: [{ Key: 'k', Value: 'changed' }] })),
      frozen.sm.send(new UntagResourceCommand({ SecretId: 'app', TagKeys: ['k'] })),
      frozen.sm.send(new DeleteSecretCommand({ SecretId: 'app', ForceDeleteWithoutRecovery: true })),
      frozen.sm.send(new CreateSecretCommand({ Name: 'new', SecretString: 'x' })),
    ];
    for (const call of calls) await expectAwsError(call, 'AccessDeniedException');
    expect(emu.getSecret(REGION, 'app')).toEqual(before);
    expect(emu.listSecretNames(REGION)).toEqual(['app']);
  });
});

describe('CreateSecret needs more than CreateSecret', () => {
  it('with Tags it also needs TagResource, evaluated on the new ARN with aws:RequestTag and aws:TagKeys', async () => {
    const creator = user('creator', { create: onePolicy({ Effect: 'Allow', Action: 'secretsmanager:CreateSecret', Resource: '*' }) });
    await creator.sm.send(new CreateSecretCommand({ Name: 'plain', SecretString: 'x' }));
    await expectAwsError(
      creator.sm.send(new CreateSecretCommand({ Name: 'tagged', SecretString: 'x', Tags: SYNC_TAGS })),
      'AccessDeniedException',
      deniedMessage(creator.arn, 'secretsmanager:TagResource', 'tagged'),
    );
    expect(emu.getSecret(REGION, 'tagged')).toBeUndefined();

    // TagResource only for the sync tag: ForAllValues on aws:TagKeys.
    emu.putInlinePolicy(
      creator.arn,
      'tag',
      onePolicy({ Effect: 'Allow', Action: 'secretsmanager:TagResource', Resource: '*', Condition: { 'ForAllValues:StringEquals': { 'aws:TagKeys': [SYNC_TAG] } } }),
    );
    await creator.sm.send(new CreateSecretCommand({ Name: 'tagged', SecretString: 'x', Tags: SYNC_TAGS }));
    await expectAwsError(
      creator.sm.send(new CreateSecretCommand({ Name: 'tagged-too', SecretString: 'x', Tags: [...SYNC_TAGS, { Key: 'owner', Value: 'me' }] })),
      'AccessDeniedException',
      deniedMessage(creator.arn, 'secretsmanager:TagResource', 'tagged-too'),
    );
    const entry = emu.requestLog({ operation: 'CreateSecret', decision: 'allowed' }).at(-1)!;
    const arn = emu.getSecret(REGION, 'tagged')!.arn;
    expect(entry.actions).toEqual(['secretsmanager:CreateSecret', 'secretsmanager:TagResource']);
    expect(entry.evaluations!.map((e) => [e.action, e.resource, e.decision])).toEqual([
      ['secretsmanager:CreateSecret', arn, 'allowed'],
      ['secretsmanager:TagResource', arn, 'allowed'],
    ]);
  });

  it('aws:RequestTag can require a tag on creation (Null "false")', async () => {
    const creator = user('creator', {
      create: onePolicy({
        Effect: 'Allow',
        Action: ['secretsmanager:CreateSecret', 'secretsmanager:TagResource'],
        Resource: '*',
        Condition: { Null: { [`aws:RequestTag/${SYNC_TAG}`]: 'false' } },
      }),
    });
    await expectAwsError(creator.sm.send(new CreateSecretCommand({ Name: 'untagged', SecretString: 'x' })), 'AccessDeniedException');
    await creator.sm.send(new CreateSecretCommand({ Name: 'tagged', SecretString: 'x', Tags: SYNC_TAGS }));
  });

  it('with AddReplicaRegions it also needs ReplicateSecretToRegions', async () => {
    const creator = user('creator', { create: onePolicy({ Effect: 'Allow', Action: 'secretsmanager:CreateSecret', Resource: '*' }) });
    await expectAwsError(
      creator.sm.send(new CreateSecretCommand({ Name: 'replicated', SecretString: 'x', AddReplicaRegions: [{ Region: 'us-east-1' }] })),
      'AccessDeniedException',
      deniedMessage(creator.arn, 'secretsmanager:ReplicateSecretToRegions', 'replicated'),
    );
    expect(emu.getSecret('us-east-1', 'replicated')).toBeUndefined();
    emu.putInlinePolicy(creator.arn, 'replicate', onePolicy({ Effect: 'Allow', Action: 'secretsmanager:ReplicateSecretToRegions', Resource: '*' }));
    await creator.sm.send(new CreateSecretCommand({ Name: 'replicated', SecretString: 'x', AddReplicaRegions: [{ Region: 'us-east-1' }] }));
    expect(emu.getSecret('us-east-1', 'replicated')?.primaryRegion).toBe(REGION);
  });

  it('is evaluated against the ARN the secret will have, so a name-??????-pattern allows it', async () => {
    const creator = user('creator', {
      exact: onePolicy({ Effect: 'Allow', Action: 'secretsmanager:*', Resource: `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:vault/app-??????` }),
    });
    const out = await creator.sm.send(new CreateSecretCommand({ Name: 'vault/app', SecretString: 'x' }));
    expect(emu.requestLog({ operation: 'CreateSecret' })[0].evaluations).toEqual([
      {
        action: 'secretsmanager:CreateSecret',
        resource: out.ARN,
        decision: 'allowed',
        basis: 'identityPolicy',
        statement: { policy: 'exact', index: 0 },
      },
    ]);
    await creator.sm.send(new DescribeSecretCommand({ SecretId: 'vault/app' }));
  });
});

describe('a secret that does not exist', () => {
  it('is evaluated as arn:…:secret:<name>: AccessDenied unless allowed, ResourceNotFound only when allowed', async () => {
    const sync = user('ferry-sync', { minimal: MINIMAL });
    await expectAwsError(
      sync.sm.send(new UpdateSecretCommand({ SecretId: 'vault/missing', SecretString: 'x', ClientRequestToken: token(1) })),
      'ResourceNotFoundException',
    );
    await expectAwsError(
      sync.sm.send(new DescribeSecretCommand({ SecretId: 'vault/missing' })),
      'AccessDeniedException',
      deniedMessage(sync.arn, 'secretsmanager:DescribeSecret', 'vault/missing'),
    );
    // ForceDeleteWithoutRecovery of an unknown secret is not an error, when allowed.
    await sync.sm.send(new DeleteSecretCommand({ SecretId: 'vault/missing', ForceDeleteWithoutRecovery: true }));
    await expectAwsError(sync.sm.send(new DeleteSecretCommand({ SecretId: 'prod/missing', ForceDeleteWithoutRecovery: true })), 'AccessDeniedException');
    const resources = emu.requestLog({ principalArn: sync.arn }).map((e) => e.evaluations![0].resource);
    expect(resources).toEqual([
      `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:vault/missing`,
      `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:vault/missing`,
      `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:vault/missing`,
      `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:prod/missing`,
    ]);
  });

  it('a name-??????-pattern does not cover a missing secret, which has no suffix', async () => {
    const reader = user('reader', {
      exact: onePolicy({ Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: `arn:aws:secretsmanager:*:*:secret:app-??????` }),
    });
    await expectAwsError(reader.sm.send(new GetSecretValueCommand({ SecretId: 'app' })), 'AccessDeniedException');
    await admin.send(new CreateSecretCommand({ Name: 'app', SecretString: 'x' }));
    expect((await reader.sm.send(new GetSecretValueCommand({ SecretId: 'app' }))).SecretString).toBe('x');
  });
});

describe('resources of listing and batch calls', () => {
  it('ListSecrets is evaluated against "*" only', async () => {
    const secretScoped = user('lister', { list: onePolicy({ Effect: 'Allow', Action: 'secretsmanager:ListSecrets', Resource: 'arn:aws:secretsmanager:*:*:secret:*' }) });
    await expectAwsError(secretScoped.sm.send(new ListSecretsCommand({})), 'AccessDeniedException');
    emu.putInlinePolicy(secretScoped.arn, 'list', onePolicy({ Effect: 'Allow', Action: 'secretsmanager:ListSecrets', Resource: '*' }));
    expect((await secretScoped.sm.send(new ListSecretsCommand({}))).SecretList).toEqual([]);
  });

  it('BatchGetSecretValue needs GetSecretValue on each secret; a refused one is an entry in Errors', async () => {
    await admin.send(new CreateSecretCommand({ Name: 'vault/a', SecretString: 'a' }));
    await admin.send(new CreateSecretCommand({ Name: 'prod/b', SecretString: 'b' }));
    const reader = user('reader', {
      batch: {
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Action: 'secretsmanager:BatchGetSecretValue', Resource: '*' },
          { Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: 'arn:aws:secretsmanager:*:*:secret:vault*' },
        ],
      },
    });
    const out = await reader.sm.send(new BatchGetSecretValueCommand({ SecretIdList: ['vault/a', 'prod/b'] }));
    expect(out.SecretValues!.map((v) => [v.Name, v.SecretString])).toEqual([['vault/a', 'a']]);
    expect(out.Errors).toEqual([
      { SecretId: 'prod/b', ErrorCode: 'AccessDeniedException', Message: deniedMessage(reader.arn, 'secretsmanager:GetSecretValue', 'prod/b') },
    ]);
    const entry = emu.requestLog({ operation: 'BatchGetSecretValue' })[0];
    expect(entry.decision).toBe('implicitDeny');
    expect(entry.evaluations!.map((e) => [e.action, e.decision])).toEqual([
      ['secretsmanager:BatchGetSecretValue', 'allowed'],
      ['secretsmanager:GetSecretValue', 'allowed'],
      ['secretsmanager:GetSecretValue', 'implicitDeny'],
    ]);
  });
});

describe('credentials without policies keep full access', () => {
  it('unmapped keys, mapped keys and users without a policy are unrestricted; a policy makes a user restricted, removing it frees it again', async () => {
    await admin.send(new CreateSecretCommand({ Name: 'any', SecretString: 'x' }));
    const plain = user('plain', {});
    expect(emu.principal(plain.arn)).toEqual({ arn: plain.arn, kind: 'user', accountId: ACCOUNT, unrestricted: true, inlinePolicies: {}, attachedPolicyArns: [] });
    await plain.sm.send(new GetSecretValueCommand({ SecretId: 'any' }));
    expect(emu.requestLog({ principalArn: plain.arn })[0].evaluations).toEqual([
      { action: 'secretsmanager:GetSecretValue', resource: emu.getSecret(REGION, 'any')!.arn, decision: 'allowed', basis: 'unrestricted' },
    ]);

    const { arn: policyArn } = emu.createPolicy({ policyName: 'read-only/describe', document: onePolicy({ Effect: 'Allow', Action: 'secretsmanager:Describe*', Resource: '*' }) });
    expect(policyArn).toBe(`arn:aws:iam::${ACCOUNT}:policy/read-only/describe`);
    emu.attachPolicy(plain.arn, policyArn);
    expect(emu.principal(plain.arn)!.unrestricted).toBe(false);
    await plain.sm.send(new DescribeSecretCommand({ SecretId: 'any' }));
    await expectAwsError(plain.sm.send(new GetSecretValueCommand({ SecretId: 'any' })), 'AccessDeniedException');

    // A managed policy's new document applies at once to everyone it is attached to.
    emu.createPolicy({ policyName: 'read-only/describe', document: onePolicy({ Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: '*' }) });
    await plain.sm.send(new GetSecretValueCommand({ SecretId: 'any' }));
    await expectAwsError(plain.sm.send(new DescribeSecretCommand({ SecretId: 'any' })), 'AccessDeniedException');

    emu.detachPolicy(plain.arn, policyArn);
    expect(emu.principal(plain.arn)!.unrestricted).toBe(true);
    await plain.sm.send(new DescribeSecretCommand({ SecretId: 'any' }));
    // The default unmapped key never had a policy.
    await admin.send(new PutSecretValueCommand({ SecretId: 'any', SecretString: 'y', ClientRequestToken: token(1) }));
  });

  it('a user key is signature-checked with its secret and names the user', async () => {
    const { credentials, arn } = registerUser(emu, 'svc/ferry', {});
    expect(arn).toBe(`arn:aws:iam::${ACCOUNT}:user/svc/ferry`);
    const wrong = client({ ...credentials, secretAccessKey: 'not-the-secret' });
    await expectAwsError(wrong.send(new ListSecretsCommand({})), 'InvalidSignatureException');
    await client(credentials).send(new ListSecretsCommand({}));
    expect(emu.requestLog({ principalArn: arn }).map((e) => e.status)).toEqual([200]);
  });
});
