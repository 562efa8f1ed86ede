import { CreateSecretCommand, GetSecretValueCommand, ListSecretsCommand } from '@aws-sdk/client-secrets-manager';
import { AssumeRoleCommand, AssumeRoleWithWebIdentityCommand, GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { beforeEach, describe, expect, it, onTestFinished } from 'vitest';
import { perTest } from '../support/fixtures.js';
import {
  ACCOUNT,
  AKIA,
  claims,
  expectAwsError,
  rawSecretsManager,
  REGION,
  ROLE_ARN,
  smClient,
  startIssuer,
  stsClient,
  trustIssuer,
  type Credentials,
  type TestIssuer,
  useEmulator,
} from './helpers.js';

const { emu, clock, sm } = useEmulator();

/** Destroys an SDK client the test made when the test finishes. */
function destroyAfterTest<T extends { destroy(): void }>(c: T): T {
  onTestFinished(() => c.destroy());
  return c;
}

const INVALID_TOKEN = 'The security token included in the request is invalid.';
const MISMATCH =
  'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.';

function client(credentials: Credentials, extra: { region?: string; systemClockOffset?: number; maxAttempts?: number } = {}) {
  return destroyAfterTest(smClient(emu, { credentials, ...extra }));
}

async function webIdentitySession(idp: TestIssuer, durationSeconds = 900): Promise<Credentials & { expiration: Date }> {
  trustIssuer(emu, idp);
  const sts = destroyAfterTest(stsClient(emu));
  const out = await sts.send(
    new AssumeRoleWithWebIdentityCommand({
      RoleArn: ROLE_ARN,
      RoleSessionName: 'sync',
      WebIdentityToken: await idp.sign(claims(idp, clock)),
      DurationSeconds: durationSeconds,
    }),
  );
  const c = out.Credentials!;
  return { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken!, expiration: c.Expiration! };
}

describe('SigV4 on Secrets Manager', () => {
  it('answers a request without Authorization with MissingAuthenticationTokenException', async () => {
    const res = await rawSecretsManager(emu, 'secretsmanager.ListSecrets', '{}', { sign: false });
    expect(res.status).toBe(400);
    expect(res.json()).toEqual({ __type: 'MissingAuthenticationTokenException', Message: 'Missing Authentication Token' });
  });

  it('rejects an access key that is neither AKIA nor issued ASIA with UnrecognizedClientException', async () => {
    await expectAwsError(client({ accessKeyId: 'test', secretAccessKey: 'test' }).send(new ListSecretsCommand({})), 'UnrecognizedClientException', INVALID_TOKEN);
  });

  it('rejects a long-term AKIA key sent with a session token', async () => {
    await expectAwsError(
      client({ ...AKIA, sessionToken: 'stray' }).send(new ListSecretsCommand({})),
      'UnrecognizedClientException',
      INVALID_TOKEN,
    );
  });

  it('verifies the signature of a mapped key: the wrong secret is InvalidSignatureException', async () => {
    emu.mapAccessKey('AKIAMAPPEDKEY0000001', 'right-secret', ACCOUNT);
    await client({ accessKeyId: 'AKIAMAPPEDKEY0000001', secretAccessKey: 'right-secret' }).send(new ListSecretsCommand({}));
    await expectAwsError(
      client({ accessKeyId: 'AKIAMAPPEDKEY0000001', secretAccessKey: 'wrong-secret' }).send(new ListSecretsCommand({})),
      'InvalidSignatureException',
      MISMATCH,
    );
  });

  it('detects a body changed after signing', async () => {
    emu.mapAccessKey('AKIAMAPPEDKEY0000001', 'right-secret', ACCOUNT);
    const res = await rawSecretsManager(emu, 'secretsmanager.ListSecrets', '{"MaxResults":1}', {
      credentials: { accessKeyId: 'AKIAMAPPEDKEY0000001', secretAccessKey: 'right-secret' },
      tamper: (h) => {
        h['x-amz-target'] = 'secretsmanager.DescribeSecret';
      },
    });
    expect(res.status).toBe(400);
    expect(res.json().__type).toBe('InvalidSignatureException');
  });

  it('requires the credential scope to name the secretsmanager service', async () => {
    const res = await rawSecretsManager(emu, 'secretsmanager.ListSecrets', '{}', { service: 'sts' });
    expect(res.json()).toEqual({
      __type: 'InvalidSignatureException',
      Message: "Credential should be scoped to correct service: 'secretsmanager'. ",
    });
  });

  it('rejects a signature more than 5 minutes old: "Signature expired"', async () => {
    const res = await rawSecretsManager(emu, 'secretsmanager.ListSecrets', '{}', { signedAt: Date.now() - 6 * 60_000 });
    expect(res.status).toBe(400);
    expect(res.json().__type).toBe('InvalidSignatureException');
    expect(res.json().Message).toMatch(/^Signature expired: \d{8}T\d{6}Z is now earlier than \d{8}T\d{6}Z \(\d{8}T\d{6}Z - 5 min\.\)$/);
  });

  it('sends a Date header the SDK uses to correct its clock skew and retry', async () => {
    const skewed = client(AKIA, { systemClockOffset: -10 * 60_000, maxAttempts: 2 });
    const out = await skewed.send(new ListSecretsCommand({}));
    expect(out.$metadata.attempts).toBe(2);
    expect(emu.requestLog().map((e) => e.errorCode)).toEqual(['InvalidSignatureException', undefined]);
  });
});

describe('session credentials on Secrets Manager', () => {
  const idp = perTest('the OIDC issuer', () => startIssuer(), (issuer) => issuer.close());

  it('accepts session credentials issued by the emulator\'s STS; they act in the role\'s account', async () => {
    const creds = await webIdentitySession(idp);
    const session = client(creds);
    await session.send(new CreateSecretCommand({ Name: 'from-session', SecretString: 'v' }));
    expect(emu.listSecretNames(REGION, ACCOUNT)).toEqual(['from-session']);
    const log = emu.requestLog().find((e) => e.operation === 'CreateSecret')!;
    expect(log).toMatchObject({ accessKeyId: creds.accessKeyId, accountId: ACCOUNT, region: REGION, status: 200 });
  });

  it('rejects session credentials once expired on the emulator clock: ExpiredTokenException', async () => {
    const creds = await webIdentitySession(idp, 900);
    const session = client(creds);
    await session.send(new ListSecretsCommand({}));
    clock.advance(900_000);
    await expectAwsError(session.send(new ListSecretsCommand({})), 'ExpiredTokenException', 'The security token included in the request is expired');
  });

  it('rejects a forged ASIA key with UnrecognizedClientException', async () => {
    await expectAwsError(
      client({ accessKeyId: 'ASIAFORGEDKEY0000001', secretAccessKey: 'x', sessionToken: 'made-up' }).send(new ListSecretsCommand({})),
      'UnrecognizedClientException',
      INVALID_TOKEN,
    );
  });

  it('rejects an issued ASIA key with a missing or foreign session token', async () => {
    const creds = await webIdentitySession(idp);
    await expectAwsError(
      client({ accessKeyId: creds.accessKeyId, secretAccessKey: creds.secretAccessKey }).send(new ListSecretsCommand({})),
      'UnrecognizedClientException',
      INVALID_TOKEN,
    );
    await expectAwsError(
      client({ ...creds, sessionToken: `${creds.sessionToken}x` }).send(new ListSecretsCommand({})),
      'UnrecognizedClientException',
      INVALID_TOKEN,
    );
  });

  it('verifies the signature of an issued ASIA key against its issued secret', async () => {
    const creds = await webIdentitySession(idp);
    await expectAwsError(client({ ...creds, secretAccessKey: 'not-the-issued-secret' }).send(new ListSecretsCommand({})), 'InvalidSignatureException', MISMATCH);
  });

  it('takes the region from the SigV4 scope', async () => {
    const creds = await webIdentitySession(idp);
    await client(creds, { region: 'ap-southeast-2' }).send(new CreateSecretCommand({ Name: 'sydney', SecretString: 'v' }));
    expect(emu.listSecretNames('ap-southeast-2')).toEqual(['sydney']);
    expect(emu.listSecretNames(REGION)).toEqual([]);
  });
});

describe('AssumeRole', () => {
  const OTHER = '222233334444';
  const TARGET_ROLE = `arn:aws:iam::${OTHER}:role/ferry-target`;

  beforeEach(() => {
    emu.registerRole({ accountId: OTHER, roleName: 'ferry-target', trust: { principalAccount: ACCOUNT, externalId: 'ferry-ext-1' } });
  });

  function sts(credentials?: Credentials) {
    return destroyAfterTest(stsClient(emu, credentials ? { credentials } : { credentials: AKIA }));
  }

  it('issues credentials when ExternalId matches; they act in the role\'s account', async () => {
    const out = await sts().send(new AssumeRoleCommand({ RoleArn: TARGET_ROLE, RoleSessionName: 'ferry', ExternalId: 'ferry-ext-1' }));
    expect(out.AssumedRoleUser!.Arn).toBe(`arn:aws:sts::${OTHER}:assumed-role/ferry-target/ferry`);
    const creds = { accessKeyId: out.Credentials!.AccessKeyId!, secretAccessKey: out.Credentials!.SecretAccessKey!, sessionToken: out.Credentials!.SessionToken! };
    const who = await sts(creds).send(new GetCallerIdentityCommand({}));
    expect(who).toMatchObject({ Account: OTHER, Arn: out.AssumedRoleUser!.Arn, UserId: out.AssumedRoleUser!.AssumedRoleId });
    await client(creds).send(new CreateSecretCommand({ Name: 'in-other-account', SecretString: 'v' }));
    expect(emu.listSecretNames(REGION, OTHER)).toEqual(['in-other-account']);
    await expectAwsError(sm.send(new GetSecretValueCommand({ SecretId: 'in-other-account' })), 'ResourceNotFoundException');
  });

  it('denies a missing or wrong ExternalId with 403 AccessDenied', async () => {
    for (const ExternalId of [undefined, 'wrong-ext']) {
      await expectAwsError(
        sts().send(new AssumeRoleCommand({ RoleArn: TARGET_ROLE, RoleSessionName: 'ferry', ExternalId })),
        'AccessDenied',
        `User: arn:aws:iam::${ACCOUNT}:user/${AKIA.accessKeyId} is not authorized to perform: sts:AssumeRole on resource: ${TARGET_ROLE}`,
        403,
      );
    }
  });

  it('denies callers from an account the trust policy does not name', async () => {
    emu.mapAccessKey('AKIATHIRDACCOUNT0001', 's', '555566667777');
    await expectAwsError(
      sts({ accessKeyId: 'AKIATHIRDACCOUNT0001', secretAccessKey: 's' }).send(
        new AssumeRoleCommand({ RoleArn: TARGET_ROLE, RoleSessionName: 'third', ExternalId: 'ferry-ext-1' }),
      ),
      'AccessDenied',
      undefined,
      403,
    );
  });

  it('requires a signed request: unsigned AssumeRole is MissingAuthenticationToken', async () => {
    const res = await fetch(`${emu.endpoint}/`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ Action: 'AssumeRole', Version: '2011-06-15', RoleArn: TARGET_ROLE, RoleSessionName: 'unsigned' }).toString(),
    });
    expect(res.status).toBe(403);
    expect(await res.text()).toContain('<Code>MissingAuthenticationToken</Code>');
  });

  it('caps role-chained sessions at one hour', async () => {
    emu.registerRole({ accountId: OTHER, roleName: 'long', trust: { principalAccount: OTHER }, maxSessionDuration: 7200 });
    const first = await sts().send(new AssumeRoleCommand({ RoleArn: TARGET_ROLE, RoleSessionName: 'first', ExternalId: 'ferry-ext-1' }));
    const chained = sts({
      accessKeyId: first.Credentials!.AccessKeyId!,
      secretAccessKey: first.Credentials!.SecretAccessKey!,
      sessionToken: first.Credentials!.SessionToken!,
    });
    await expectAwsError(
      chained.send(new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${OTHER}:role/long`, RoleSessionName: 'second', DurationSeconds: 7200 })),
      'ValidationError',
      'The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.',
    );
    await chained.send(new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${OTHER}:role/long`, RoleSessionName: 'second', DurationSeconds: 3600 }));
  });

  it('uses STS error codes for signature failures (SignatureDoesNotMatch, InvalidClientTokenId)', async () => {
    emu.mapAccessKey('AKIAMAPPEDKEY0000001', 'right', ACCOUNT);
    await expectAwsError(
      sts({ accessKeyId: 'AKIAMAPPEDKEY0000001', secretAccessKey: 'wrong' }).send(new GetCallerIdentityCommand({})),
      'SignatureDoesNotMatch',
      MISMATCH,
      403,
    );
    await expectAwsError(sts({ accessKeyId: 'bogus', secretAccessKey: 'x' }).send(new GetCallerIdentityCommand({})), 'InvalidClientTokenId', INVALID_TOKEN, 403);
  });
});
