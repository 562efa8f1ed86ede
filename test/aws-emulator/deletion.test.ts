import { randomUUID } from 'node:crypto';
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  PutSecretValueCommand,
  RestoreSecretCommand,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateSecretCommand,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { describe, expect, it } from 'vitest';
import { DAY } from '../support/clock.js';
import { expectAwsError, REGION, useEmulator } from './helpers.js';

const { emu, clock, sm } = useEmulator();
const MARKED = "You can't perform this operation on the secret because it was marked for deletion.";

describe('DeleteSecret', () => {
  it('schedules deletion with a 30-day default window: DeletionDate = now + 30 d, DescribeSecret shows DeletedDate', async () => {
    const created = await sm.send(new CreateSecretCommand({ Name: 'd', SecretString: 'v' }));
    const del = await sm.send(new DeleteSecretCommand({ SecretId: 'd' }));
    expect(del.ARN).toBe(created.ARN);
    expect(del.DeletionDate!.getTime()).toBe(clock() + 30 * DAY);
    const desc = await sm.send(new DescribeSecretCommand({ SecretId: 'd' }));
    expect(desc.DeletedDate!.getTime()).toBe(clock());
    expect(emu.getSecret(REGION, 'd')!.deletedDate).toBe(clock());
  });

  it('accepts RecoveryWindowInDays 7–30 only', async () => {
    await sm.send(new CreateSecretCommand({ Name: 'w', SecretString: 'v' }));
    for (const days of [6, 31]) {
      await expectAwsError(
        sm.send(new DeleteSecretCommand({ SecretId: 'w', RecoveryWindowInDays: days })),
        'InvalidParameterException',
        'The RecoveryWindowInDays value must be between 7 and 30 days (inclusive).',
      );
    }
    const del = await sm.send(new DeleteSecretCommand({ SecretId: 'w', RecoveryWindowInDays: 7 }));
    expect(del.DeletionDate!.getTime()).toBe(clock() + 7 * DAY);
  });

  it('refuses ForceDeleteWithoutRecovery together with RecoveryWindowInDays', async () => {
    await sm.send(new CreateSecretCommand({ Name: 'both', SecretString: 'v' }));
    await expectAwsError(
      sm.send(new DeleteSecretCommand({ SecretId: 'both', RecoveryWindowInDays: 7, ForceDeleteWithoutRecovery: true })),
      'InvalidParameterException',
      "You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.",
    );
  });

  it('hides a scheduled secret from ListSecrets unless IncludePlannedDeletion', async () => {
    await sm.send(new CreateSecretCommand({ Name: 'live', SecretString: 'v' }));
    await sm.send(new CreateSecretCommand({ Name: 'planned', SecretString: 'v' }));
    await sm.send(new DeleteSecretCommand({ SecretId: 'planned' }));
    expect((await sm.send(new ListSecretsCommand({}))).SecretList!.map((s) => s.Name)).toEqual(['live']);
    const all = await sm.send(new ListSecretsCommand({ IncludePlannedDeletion: true }));
    expect(all.SecretList!.map((s) => s.Name)).toEqual(['live', 'planned']);
    expect(all.SecretList![1].DeletedDate).toBeInstanceOf(Date);
  });

  it('answers InvalidRequestException "marked for deletion" to reads and writes of a scheduled secret', async () => {
    const token = randomUUID();
    await sm.send(new CreateSecretCommand({ Name: 's', SecretString: 'v', ClientRequestToken: token }));
    await sm.send(new DeleteSecretCommand({ SecretId: 's' }));
    const calls = [
      sm.send(new GetSecretValueCommand({ SecretId: 's' })),
      // The deleted state is checked before the version is resolved (no ResourceNotFoundException).
      sm.send(new GetSecretValueCommand({ SecretId: 's', VersionStage: 'NOWHERE' })),
      sm.send(new PutSecretValueCommand({ SecretId: 's', SecretString: 'x' })),
      // ... and before token idempotency.
      sm.send(new UpdateSecretCommand({ SecretId: 's', SecretString: 'v', ClientRequestToken: token })),
      sm.send(new UpdateSecretCommand({ SecretId: 's', Description: 'x' })),
      sm.send(new UpdateSecretVersionStageCommand({ SecretId: 's', VersionStage: 'X', MoveToVersionId: token })),
      sm.send(new TagResourceCommand({ SecretId: 's', Tags: [{ Key: 'a', Value: 'b' }] })),
      sm.send(new UntagResourceCommand({ SecretId: 's', TagKeys: ['a'] })),
    ];
    for (const call of calls) await expectAwsError(call, 'InvalidRequestException', MARKED);
  });

  it('refuses to schedule an already scheduled secret again, but force-deletes it', async () => {
    await sm.send(new CreateSecretCommand({ Name: 'twice', SecretString: 'v' }));
    await sm.send(new DeleteSecretCommand({ SecretId: 'twice' }));
    await expectAwsError(sm.send(new DeleteSecretCommand({ SecretId: 'twice' })), 'InvalidRequestException');
    const forced = await sm.send(new DeleteSecretCommand({ SecretId: 'twice', ForceDeleteWithoutRecovery: true }));
    expect(forced.DeletionDate!.getTime()).toBe(clock());
    expect(emu.getSecret(REGION, 'twice')).toBeUndefined();
    await expectAwsError(sm.send(new DescribeSecretCommand({ SecretId: 'twice' })), 'ResourceNotFoundException');
  });

  it('answers 200 to a forced delete of an unknown secret, ResourceNotFoundException without force', async () => {
    const out = await sm.send(new DeleteSecretCommand({ SecretId: 'ghost', ForceDeleteWithoutRecovery: true }));
    expect(out.$metadata.httpStatusCode).toBe(200);
    await expectAwsError(sm.send(new DeleteSecretCommand({ SecretId: 'ghost' })), 'ResourceNotFoundException');
  });

  it('purges the secret once the recovery window has passed; the name is free again', async () => {
    await sm.send(new CreateSecretCommand({ Name: 'p', SecretString: 'v' }));
    await sm.send(new DeleteSecretCommand({ SecretId: 'p', RecoveryWindowInDays: 7 }));
    clock.advance(7 * DAY - 1);
    expect((await sm.send(new DescribeSecretCommand({ SecretId: 'p' }))).DeletedDate).toBeDefined();
    clock.advance(1);
    await expectAwsError(sm.send(new DescribeSecretCommand({ SecretId: 'p' })), 'ResourceNotFoundException');
    await sm.send(new CreateSecretCommand({ Name: 'p', SecretString: 'new' }));
  });
});

describe('RestoreSecret', () => {
  it('makes a scheduled secret fully usable again with its versions and labels', async () => {
    const v1 = (await sm.send(new CreateSecretCommand({ Name: 'r', SecretString: '1' }))).VersionId!;
    const v2 = (await sm.send(new PutSecretValueCommand({ SecretId: 'r', SecretString: '2' }))).VersionId!;
    await sm.send(new DeleteSecretCommand({ SecretId: 'r' }));
    const restored = await sm.send(new RestoreSecretCommand({ SecretId: 'r' }));
    expect(restored.Name).toBe('r');
    const desc = await sm.send(new DescribeSecretCommand({ SecretId: 'r' }));
    expect(desc.DeletedDate).toBeUndefined();
    expect(desc.VersionIdsToStages).toEqual({ [v1]: ['AWSPREVIOUS'], [v2]: ['AWSCURRENT'] });
    expect((await sm.send(new GetSecretValueCommand({ SecretId: 'r' }))).SecretString).toBe('2');
    await sm.send(new PutSecretValueCommand({ SecretId: 'r', SecretString: '3' }));
  });

  it('answers ResourceNotFoundException for an unknown or purged secret; a no-op on one not scheduled', async () => {
    await expectAwsError(sm.send(new RestoreSecretCommand({ SecretId: 'nope' })), 'ResourceNotFoundException');
    await sm.send(new CreateSecretCommand({ Name: 'fine', SecretString: 'v' }));
    await sm.send(new RestoreSecretCommand({ SecretId: 'fine' }));
    await sm.send(new DeleteSecretCommand({ SecretId: 'fine', ForceDeleteWithoutRecovery: true }));
    await expectAwsError(sm.send(new RestoreSecretCommand({ SecretId: 'fine' })), 'ResourceNotFoundException');
  });
});
