import { randomUUID } from 'node:crypto';
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
} from '@aws-sdk/client-secrets-manager';
import { describe, expect, it } from 'vitest';
import { expectAwsError, rawSecretsManager, REGION, useEmulator } from './helpers.js';

const { emu, clock, sm } = useEmulator();

describe('CreateSecret', () => {
  it('creates a first version labelled AWSCURRENT whose VersionId is the ClientRequestToken', async () => {
    const token = randomUUID();
    const out = await sm.send(new CreateSecretCommand({ Name: 'svc/orders/db', SecretString: '{"u":"o"}', ClientRequestToken: token }));
    expect(out.VersionId).toBe(token);
    expect(out.Name).toBe('svc/orders/db');
    expect(out.ARN).toMatch(/^arn:aws:secretsmanager:eu-west-1:123456789012:secret:svc\/orders\/db-[A-Za-z0-9]{6}$/);
    const got = await sm.send(new GetSecretValueCommand({ SecretId: 'svc/orders/db' }));
    expect(got.VersionStages).toEqual(['AWSCURRENT']);
    expect(got.SecretString).toBe('{"u":"o"}');
    expect(emu.getSecret(REGION, 'svc/orders/db')?.versions).toEqual([
      { versionId: token, stages: ['AWSCURRENT'], secretString: '{"u":"o"}', createdDate: clock() },
    ]);
  });

  it('answers ResourceExistsException when the name exists and the token is new', async () => {
    await sm.send(new CreateSecretCommand({ Name: 'dup', SecretString: 'a' }));
    await expectAwsError(
      sm.send(new CreateSecretCommand({ Name: 'dup', SecretString: 'a' })),
      'ResourceExistsException',
      'The operation failed because the secret dup already exists.',
    );
  });

  it('treats a retry with the same token and value as a no-op returning the same ARN and VersionId', async () => {
    const token = randomUUID();
    const first = await sm.send(new CreateSecretCommand({ Name: 'idem', SecretString: 'v', ClientRequestToken: token }));
    const again = await sm.send(new CreateSecretCommand({ Name: 'idem', SecretString: 'v', ClientRequestToken: token }));
    expect([again.ARN, again.Name, again.VersionId]).toEqual([first.ARN, first.Name, first.VersionId]);
    expect(emu.getSecret(REGION, 'idem')?.versions).toHaveLength(1);
  });

  it('rejects the same token with another value with ResourceExistsException naming token and ARN', async () => {
    const token = randomUUID();
    const first = await sm.send(new CreateSecretCommand({ Name: 'idem2', SecretString: 'v1', ClientRequestToken: token }));
    await expectAwsError(
      sm.send(new CreateSecretCommand({ Name: 'idem2', SecretString: 'v2', ClientRequestToken: token })),
      'ResourceExistsException',
      `You can't use ClientRequestToken ${token} because that value is already in use for a version of secret ${first.ARN}.`,
    );
  });

  it('refuses to create a name scheduled for deletion with InvalidRequestException', async () => {
    await sm.send(new CreateSecretCommand({ Name: 'doomed', SecretString: 'v' }));
    await sm.send(new DeleteSecretCommand({ SecretId: 'doomed', RecoveryWindowInDays: 7 }));
    await expectAwsError(
      sm.send(new CreateSecretCommand({ Name: 'doomed', SecretString: 'v' })),
      'InvalidRequestException',
      "You can't create this secret because a secret with this name is already scheduled for deletion.",
    );
  });

  it('gives a re-created name a new ARN suffix', async () => {
    const a = await sm.send(new CreateSecretCommand({ Name: 'again', SecretString: 'v' }));
    await sm.send(new DeleteSecretCommand({ SecretId: 'again', ForceDeleteWithoutRecovery: true }));
    const b = await sm.send(new CreateSecretCommand({ Name: 'again', SecretString: 'v' }));
    expect(b.ARN).not.toBe(a.ARN);
    expect(b.ARN!.slice(0, -6)).toBe(a.ARN!.slice(0, -6));
  });

  it('creates a secret without versions when no value is given; its first PutSecretValue becomes AWSCURRENT', async () => {
    const out = await sm.send(new CreateSecretCommand({ Name: 'empty' }));
    expect(out.VersionId).toBeUndefined();
    await expectAwsError(
      sm.send(new GetSecretValueCommand({ SecretId: 'empty' })),
      'ResourceNotFoundException',
      "Secrets Manager can't find the specified secret value for staging label: AWSCURRENT",
    );
    const put = await sm.send(new PutSecretValueCommand({ SecretId: 'empty', SecretString: 'x', VersionStages: ['CUSTOM'] }));
    expect(put.VersionStages).toEqual(['CUSTOM', 'AWSCURRENT']);
  });

  it('validates name characters with ValidationException "Invalid name"', async () => {
    for (const name of ['has space', 'star*', 'q?', 'back\\slash', 'br]acket']) {
      await expectAwsError(
        sm.send(new CreateSecretCommand({ Name: name, SecretString: 'v' })),
        'ValidationException',
        'Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!',
      );
    }
    await sm.send(new CreateSecretCommand({ Name: 'ok/_+=.@-Name9', SecretString: 'v' }));
  });

  it('applies the name check to a non-ARN SecretId on reads and writes', async () => {
    await expectAwsError(
      sm.send(new GetSecretValueCommand({ SecretId: 'bad name' })),
      'ValidationException',
      /^Invalid name\./,
    );
    await expectAwsError(sm.send(new DescribeSecretCommand({ SecretId: 'bad*' })), 'ValidationException', /^Invalid name\./);
  });

  it('rejects a name over 512 characters with a model ValidationException', async () => {
    await expectAwsError(
      sm.send(new CreateSecretCommand({ Name: 'n'.repeat(513), SecretString: 'v' })),
      'ValidationException',
      `1 validation error detected: Value '${'n'.repeat(513)}' at 'name' failed to satisfy constraint: Member must have length less than or equal to 512`,
    );
  });

  it('enforces the 65,536-byte value limit in bytes, not characters', async () => {
    await sm.send(new CreateSecretCommand({ Name: 'max', SecretString: 'a'.repeat(65_536) }));
    // 40,000 three-byte characters: under the model's character limit, over the byte quota.
    await expectAwsError(
      sm.send(new CreateSecretCommand({ Name: 'multibyte', SecretString: '€'.repeat(40_000) })),
      'InvalidParameterException',
    );
    await expectAwsError(
      sm.send(new CreateSecretCommand({ Name: 'toolong', SecretString: 'a'.repeat(65_537) })),
      'ValidationException',
      "1 validation error detected: Value at 'secretString' failed to satisfy constraint: Member must have length less than or equal to 65536",
    );
  });

  it('refuses SecretString and SecretBinary together', async () => {
    await expectAwsError(
      sm.send(new CreateSecretCommand({ Name: 'both', SecretString: 'a', SecretBinary: new Uint8Array([1]) })),
      'InvalidParameterException',
    );
  });

  it('stores binary secrets and returns them as bytes', async () => {
    const bytes = new Uint8Array([0, 1, 2, 254, 255]);
    await sm.send(new CreateSecretCommand({ Name: 'blob/cert', SecretBinary: bytes }));
    const got = await sm.send(new GetSecretValueCommand({ SecretId: 'blob/cert' }));
    expect(got.SecretString).toBeUndefined();
    expect(Buffer.from(got.SecretBinary!)).toEqual(Buffer.from(bytes));
  });

  it('answers a raw CreateSecret with a value but no ClientRequestToken with InvalidRequestException', async () => {
    const res = await rawSecretsManager(emu, 'secretsmanager.CreateSecret', JSON.stringify({ Name: 'notoken', SecretString: 'v' }));
    expect(res.status).toBe(400);
    expect(res.json()).toEqual({
      __type: 'InvalidRequestException',
      Message: 'You must provide a ClientRequestToken value. We recommend a UUID-type value.',
    });
    expect(emu.listSecretNames(REGION)).toEqual([]);
  });

  it('rejects a ClientRequestToken outside 32–64 characters with InvalidParameterException', async () => {
    await expectAwsError(
      sm.send(new CreateSecretCommand({ Name: 'shorttoken', SecretString: 'v', ClientRequestToken: 'short' })),
      'InvalidParameterException',
    );
    await expectAwsError(
      sm.send(new CreateSecretCommand({ Name: 'longtoken', SecretString: 'v', ClientRequestToken: 'x'.repeat(65) })),
      'InvalidParameterException',
    );
  });

  it('records KmsKeyId and omits it from DescribeSecret for the default key', async () => {
    await sm.send(new CreateSecretCommand({ Name: 'cmk', SecretString: 'v', KmsKeyId: 'alias/ferry' }));
    await sm.send(new CreateSecretCommand({ Name: 'default-key', SecretString: 'v' }));
    expect((await sm.send(new DescribeSecretCommand({ SecretId: 'cmk' }))).KmsKeyId).toBe('alias/ferry');
    expect((await sm.send(new DescribeSecretCommand({ SecretId: 'default-key' }))).KmsKeyId).toBeUndefined();
    expect(emu.getSecret(REGION, 'cmk')?.kmsKeyId).toBe('alias/ferry');
  });

  it('enforces tag limits: 50 user tags, key ≤ 128, value ≤ 256, aws: prefix reserved', async () => {
    const tags = (n: number) => Array.from({ length: n }, (_, i) => ({ Key: `k${i}`, Value: 'v' }));
    await sm.send(new CreateSecretCommand({ Name: 'tags50', SecretString: 'v', Tags: tags(50) }));
    await expectAwsError(sm.send(new CreateSecretCommand({ Name: 'tags51', SecretString: 'v', Tags: tags(51) })), 'InvalidParameterException');
    await expectAwsError(
      sm.send(new CreateSecretCommand({ Name: 'awstag', SecretString: 'v', Tags: [{ Key: 'aws:owner', Value: 'x' }] })),
      'InvalidParameterException',
    );
    await expectAwsError(
      sm.send(new CreateSecretCommand({ Name: 'longkey', SecretString: 'v', Tags: [{ Key: 'k'.repeat(129), Value: 'x' }] })),
      'ValidationException',
      /at 'tags\.1\.member\.key' failed to satisfy constraint: Member must have length less than or equal to 128/,
    );
    await sm.send(new CreateSecretCommand({ Name: 'longvalue', SecretString: 'v', Tags: [{ Key: 'k', Value: 'v'.repeat(256) }] }));
    await expectAwsError(
      sm.send(new CreateSecretCommand({ Name: 'longervalue', SecretString: 'v', Tags: [{ Key: 'k', Value: 'v'.repeat(257) }] })),
      'ValidationException',
    );
  });
});
