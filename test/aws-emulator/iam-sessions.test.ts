/**
 * IAM on STS and on sessions (aws-iam-evaluation.md §1–§2, §5): sessions carry their role's
 * policies; AssumeRole needs the caller's identity policy (when it has any) and the trust policy;
 * AssumeRoleWithWebIdentity only the trust policy; GetCallerIdentity is always allowed.
 */
import { CreateSecretCommand, GetSecretValueCommand, PutSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { AssumeRoleCommand, AssumeRoleWithWebIdentityCommand, GetCallerIdentityCommand, type STSClient } from '@aws-sdk/client-sts';
import { beforeEach, describe, expect, it } from 'vitest';
import { MINIMAL } from '../support/aws-emulator/guide-policies.js';
import {
  ACCOUNT,
  claims,
  deniedMessage,
  destroyAfterTest,
  expectAwsError,
  onePolicy,
  registerUser,
  ROLE_ARN,
  smClient,
  startIssuer,
  stsClient,
  trustIssuer,
  useEmulator,
  type Credentials,
  type TestIssuer,
} from './helpers.js';

const { emu, clock, sm: admin } = useEmulator();

beforeEach(async () => {
  await admin.send(new CreateSecretCommand({ Name: 'vault/app', SecretString: 'v1' }));
});

function sm(credentials: Credentials): SecretsManagerClient {
  return destroyAfterTest(smClient(emu, { credentials }));
}

function sts(credentials?: Credentials): STSClient {
  return destroyAfterTest(stsClient(emu, credentials !== undefined ? { credentials } : {}));
}

async function assumeRole(caller: Credentials | undefined, roleArn: string, sessionName = 's1'): Promise<Credentials> {
  const out = await sts(caller ?? { accessKeyId: 'AKIAEMULATOR00000001', secretAccessKey: 'x' }).send(
    new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: sessionName }),
  );
  const c = out.Credentials!;
  return { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken! };
}

const READ_VAULT = onePolicy({ Sid: 'ReadVault', Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: 'arn:aws:secretsmanager:*:*:secret:vault*' });
const token = (n: number) => `${String(n).padStart(8, '0')}-aaaa-bbbb-cccc-dddddddddddd`;

describe('sessions carry their role policies', () => {
  it('an AssumeRole session is limited to its role policies, and named as the assumed role', async () => {
    const roleArn = emu.registerRole({ roleName: 'reader', trust: {}, inlinePolicies: { read: READ_VAULT } }).arn;
    const session = sm(await assumeRole(undefined, roleArn));
    expect((await session.send(new GetSecretValueCommand({ SecretId: 'vault/app' }))).SecretString).toBe('v1');
    await expectAwsError(
      session.send(new PutSecretValueCommand({ SecretId: 'vault/app', SecretString: 'v2', ClientRequestToken: token(1) })),
      'AccessDeniedException',
      deniedMessage(`arn:aws:sts::${ACCOUNT}:assumed-role/reader/s1`, 'secretsmanager:PutSecretValue', 'vault/app'),
    );
    expect(emu.requestLog({ service: 'secretsmanager', principalArn: `arn:aws:sts::${ACCOUNT}:assumed-role/reader/s1` }).map((e) => e.decision)).toEqual([
      'allowed',
      'implicitDeny',
    ]);
  });

  it('a web identity session carries its role policies; changes to them apply to live sessions', async () => {
    const idp: TestIssuer = await startIssuer();
    try {
      trustIssuer(emu, idp);
      emu.putInlinePolicy(ROLE_ARN, 'minimal', MINIMAL);
      const out = await sts().send(
        new AssumeRoleWithWebIdentityCommand({ RoleArn: ROLE_ARN, RoleSessionName: 'sync', WebIdentityToken: await idp.sign(claims(idp, clock)) }),
      );
      const c = out.Credentials!;
      const session = sm({ accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken! });
      await session.send(new CreateSecretCommand({ Name: 'vault/new', SecretString: 'x' }));
      await expectAwsError(session.send(new GetSecretValueCommand({ SecretId: 'vault/app' })), 'AccessDeniedException');
      emu.putInlinePolicy(ROLE_ARN, 'read', READ_VAULT);
      await session.send(new GetSecretValueCommand({ SecretId: 'vault/app' }));
      expect(emu.requestLog({ operation: 'GetSecretValue' }).map((e) => e.evaluations![0].statement)).toEqual([
        undefined,
        { policy: 'read', index: 0, sid: 'ReadVault' },
      ]);
    } finally {
      await idp.close();
    }
  });
});

describe('AssumeRole', () => {
  it("a caller with policies also needs its identity policy to allow sts:AssumeRole on the role: else 403 AccessDenied", async () => {
    const roleArn = emu.registerRole({ roleName: 'reader', trust: {}, inlinePolicies: { read: READ_VAULT } }).arn;
    const restricted = registerUser(emu, 'deployer', { minimal: MINIMAL });
    await expectAwsError(
      assumeRole(restricted.credentials, roleArn),
      'AccessDenied',
      deniedMessage(restricted.arn, 'sts:AssumeRole', roleArn),
      403,
    );
    const entry = emu.requestLog({ operation: 'AssumeRole' })[0];
    expect(entry).toMatchObject({ service: 'sts', status: 403, errorCode: 'AccessDenied', principalArn: restricted.arn, decision: 'implicitDeny' });
    expect(entry.evaluations).toEqual([{ action: 'sts:AssumeRole', resource: roleArn, decision: 'implicitDeny', basis: 'identityPolicy' }]);

    emu.putInlinePolicy(restricted.arn, 'assume', onePolicy({ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: 'arn:aws:iam::*:role/reader' }));
    const session = sm(await assumeRole(restricted.credentials, roleArn));
    await session.send(new GetSecretValueCommand({ SecretId: 'vault/app' }));
    expect(emu.requestLog({ operation: 'AssumeRole', decision: 'allowed' })[0].evaluations!.map((e) => [e.basis, e.decision])).toEqual([
      ['identityPolicy', 'allowed'],
      ['trustPolicy', 'allowed'],
    ]);
  });

  it('the trust policy still decides after the identity policy allows', async () => {
    const roleArn = emu.registerRole({ roleName: 'elsewhere', trust: { principalAccount: '999988887777' } }).arn;
    const allowed = registerUser(emu, 'deployer', { assume: onePolicy({ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: '*' }) });
    await expectAwsError(
      assumeRole(allowed.credentials, roleArn),
      'AccessDenied',
      `User: ${allowed.arn} is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`,
      403,
    );
    expect(emu.requestLog({ operation: 'AssumeRole' })[0].evaluations!.map((e) => [e.basis, e.decision])).toEqual([
      ['identityPolicy', 'allowed'],
      ['trustPolicy', 'implicitDeny'],
    ]);
  });

  it('an explicit deny of sts:AssumeRole says so', async () => {
    const roleArn = emu.registerRole({ roleName: 'reader', trust: {} }).arn;
    const denied = registerUser(emu, 'deployer', {
      all: onePolicy({ Effect: 'Allow', Action: '*', Resource: '*' }),
      noAssume: onePolicy({ Effect: 'Deny', Action: 'sts:Assume*', Resource: '*' }),
    });
    await expectAwsError(assumeRole(denied.credentials, roleArn), 'AccessDenied', deniedMessage(denied.arn, 'sts:AssumeRole', roleArn, true), 403);
  });
});

describe('AssumeRoleWithWebIdentity and GetCallerIdentity', () => {
  it('AssumeRoleWithWebIdentity is decided by the trust policy alone, and logged so', async () => {
    const idp = await startIssuer();
    try {
      trustIssuer(emu, idp);
      await sts().send(
        new AssumeRoleWithWebIdentityCommand({ RoleArn: ROLE_ARN, RoleSessionName: 'sync', WebIdentityToken: await idp.sign(claims(idp, clock)) }),
      );
      await expectAwsError(
        sts().send(
          new AssumeRoleWithWebIdentityCommand({
            RoleArn: ROLE_ARN,
            RoleSessionName: 'sync',
            WebIdentityToken: await idp.sign(claims(idp, clock, { sub: 'someone-else' })),
          }),
        ),
        'AccessDenied',
        'Not authorized to perform sts:AssumeRoleWithWebIdentity',
        403,
      );
      const entries = emu.requestLog({ operation: 'AssumeRoleWithWebIdentity' });
      expect(entries.map((e) => [e.principalArn, e.decision, e.evaluations])).toEqual([
        [undefined, 'allowed', [{ action: 'sts:AssumeRoleWithWebIdentity', resource: ROLE_ARN, decision: 'allowed', basis: 'trustPolicy' }]],
        [undefined, 'implicitDeny', [{ action: 'sts:AssumeRoleWithWebIdentity', resource: ROLE_ARN, decision: 'implicitDeny', basis: 'trustPolicy' }]],
      ]);
    } finally {
      await idp.close();
    }
  });

  it('GetCallerIdentity is allowed even under an explicit deny of everything', async () => {
    const frozen = registerUser(emu, 'frozen', { deny: onePolicy({ Effect: 'Deny', Action: '*', Resource: '*' }) });
    const out = await sts(frozen.credentials).send(new GetCallerIdentityCommand({}));
    expect(out).toMatchObject({ Arn: frozen.arn, Account: ACCOUNT });
    expect(out.UserId).toMatch(/^AIDA[A-Z0-9]{17}$/);
    expect(emu.requestLog({ operation: 'GetCallerIdentity' })[0].evaluations).toEqual([
      { action: 'sts:GetCallerIdentity', resource: '*', decision: 'allowed', basis: 'alwaysAllowed' },
    ]);
    await expectAwsError(sm(frozen.credentials).send(new GetSecretValueCommand({ SecretId: 'vault/app' })), 'AccessDeniedException');
  });
});
