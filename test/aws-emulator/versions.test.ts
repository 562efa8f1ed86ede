import { randomUUID } from 'node:crypto';
import {
  CreateSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretVersionIdsCommand,
  PutSecretValueCommand,
  UpdateSecretCommand,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { describe, expect, it } from 'vitest';
import { expectAwsError, findNulls, rawSecretsManager, REGION, useEmulator } from './helpers.js';

const { emu, clock, sm } = useEmulator();

const sorted = (a: string[] | undefined) => [...(a ?? [])].sort();
const stagesOf = async (id: string) => (await sm.send(new DescribeSecretCommand({ SecretId: id }))).VersionIdsToStages ?? {};

describe('version stages', () => {
  it('moves AWSCURRENT to each new value and AWSPREVIOUS to the version that lost it', async () => {
    const v1 = (await sm.send(new CreateSecretCommand({ Name: 's', SecretString: '1' }))).VersionId!;
    const v2 = (await sm.send(new PutSecretValueCommand({ SecretId: 's', SecretString: '2' }))).VersionId!;
    expect(await stagesOf('s')).toEqual({ [v1]: ['AWSPREVIOUS'], [v2]: ['AWSCURRENT'] });
    const v3 = (await sm.send(new PutSecretValueCommand({ SecretId: 's', SecretString: '3' }))).VersionId!;
    // v1 lost its last label: deprecated, so it leaves VersionIdsToStages.
    expect(await stagesOf('s')).toEqual({ [v2]: ['AWSPREVIOUS'], [v3]: ['AWSCURRENT'] });
    expect((await sm.send(new GetSecretValueCommand({ SecretId: 's', VersionStage: 'AWSPREVIOUS' }))).SecretString).toBe('2');
  });

  it('keeps other labels when AWSCURRENT and AWSPREVIOUS move (recorded AWS example)', async () => {
    await sm.send(new CreateSecretCommand({ Name: 'labels' }));
    const a = (await sm.send(new PutSecretValueCommand({ SecretId: 'labels', SecretString: 'A', VersionStages: ['AWSCURRENT', 'PUT0'] }))).VersionId!;
    const b = (await sm.send(new PutSecretValueCommand({ SecretId: 'labels', SecretString: 'B', VersionStages: ['AWSPENDING', 'PUT1'] }))).VersionId!;
    await sm.send(
      new UpdateSecretVersionStageCommand({ SecretId: 'labels', VersionStage: 'AWSCURRENT', MoveToVersionId: b, RemoveFromVersionId: a }),
    );
    const stages = await stagesOf('labels');
    expect(sorted(stages[a])).toEqual(['AWSPREVIOUS', 'PUT0']);
    expect(sorted(stages[b])).toEqual(['AWSCURRENT', 'AWSPENDING', 'PUT1']);
  });

  it('does not move AWSCURRENT when PutSecretValue lists stages without it', async () => {
    const v1 = (await sm.send(new CreateSecretCommand({ Name: 'pending', SecretString: '1' }))).VersionId!;
    const put = await sm.send(new PutSecretValueCommand({ SecretId: 'pending', SecretString: '2', VersionStages: ['AWSPENDING'] }));
    expect(put.VersionStages).toEqual(['AWSPENDING']);
    expect(await stagesOf('pending')).toEqual({ [v1]: ['AWSCURRENT'], [put.VersionId!]: ['AWSPENDING'] });
  });

  it('moves a custom label off its previous version (a label names one version)', async () => {
    await sm.send(new CreateSecretCommand({ Name: 'move', SecretString: '1' }));
    const a = (await sm.send(new PutSecretValueCommand({ SecretId: 'move', SecretString: '2', VersionStages: ['BLUE'] }))).VersionId!;
    const b = (await sm.send(new PutSecretValueCommand({ SecretId: 'move', SecretString: '3', VersionStages: ['BLUE'] }))).VersionId!;
    const stages = await stagesOf('move');
    expect(stages[a]).toBeUndefined();
    expect(stages[b]).toEqual(['BLUE']);
  });

  it('requires RemoveFromVersionId to move a label attached to another version', async () => {
    const v1 = (await sm.send(new CreateSecretCommand({ Name: 'uvs', SecretString: '1' }))).VersionId!;
    const v2 = (await sm.send(new PutSecretValueCommand({ SecretId: 'uvs', SecretString: '2', VersionStages: ['AWSPENDING'] }))).VersionId!;
    await expectAwsError(
      sm.send(new UpdateSecretVersionStageCommand({ SecretId: 'uvs', VersionStage: 'AWSCURRENT', MoveToVersionId: v2 })),
      'InvalidParameterException',
    );
    await sm.send(new UpdateSecretVersionStageCommand({ SecretId: 'uvs', VersionStage: 'AWSCURRENT', MoveToVersionId: v2, RemoveFromVersionId: v1 }));
    expect(await stagesOf('uvs')).toEqual({ [v1]: ['AWSPREVIOUS'], [v2]: ['AWSPENDING', 'AWSCURRENT'] });
  });

  it('never leaves two versions labelled AWSPREVIOUS', async () => {
    const ids = [(await sm.send(new CreateSecretCommand({ Name: 'prev', SecretString: '0' }))).VersionId!];
    for (let i = 1; i < 4; i++) ids.push((await sm.send(new PutSecretValueCommand({ SecretId: 'prev', SecretString: `${i}` }))).VersionId!);
    await sm.send(new UpdateSecretVersionStageCommand({ SecretId: 'prev', VersionStage: 'AWSCURRENT', MoveToVersionId: ids[0], RemoveFromVersionId: ids[3] }));
    const holders = emu.getSecret(REGION, 'prev')!.versions.filter((v) => v.stages.includes('AWSPREVIOUS'));
    expect(holders.map((v) => v.versionId)).toEqual([ids[3]]);
  });
});

describe('PutSecretValue and UpdateSecret idempotency', () => {
  it('PutSecretValue: same token and value is a no-op answering the version\'s current labels', async () => {
    await sm.send(new CreateSecretCommand({ Name: 'p', SecretString: '1' }));
    const token = randomUUID();
    await sm.send(new PutSecretValueCommand({ SecretId: 'p', SecretString: '2', ClientRequestToken: token }));
    await sm.send(new PutSecretValueCommand({ SecretId: 'p', SecretString: '3' }));
    const replay = await sm.send(new PutSecretValueCommand({ SecretId: 'p', SecretString: '2', ClientRequestToken: token }));
    expect(replay.VersionId).toBe(token);
    expect(replay.VersionStages).toEqual(['AWSPREVIOUS']);
    expect(emu.getSecret(REGION, 'p')!.versions).toHaveLength(3);
  });

  it('PutSecretValue: same token, other value → ResourceExistsException', async () => {
    const create = await sm.send(new CreateSecretCommand({ Name: 'p2', SecretString: '1' }));
    await expectAwsError(
      sm.send(new PutSecretValueCommand({ SecretId: 'p2', SecretString: 'other', ClientRequestToken: create.VersionId })),
      'ResourceExistsException',
      `You can't use ClientRequestToken ${create.VersionId} because that value is already in use for a version of secret ${create.ARN}.`,
    );
  });

  it('PutSecretValue with neither value is InvalidRequestException; on an unknown secret ResourceNotFoundException', async () => {
    await sm.send(new CreateSecretCommand({ Name: 'p3', SecretString: '1' }));
    await expectAwsError(sm.send(new PutSecretValueCommand({ SecretId: 'p3' })), 'InvalidRequestException');
    await expectAwsError(
      sm.send(new PutSecretValueCommand({ SecretId: 'nope', SecretString: 'x' })),
      'ResourceNotFoundException',
      "Secrets Manager can't find the specified secret.",
    );
  });

  it('UpdateSecret with a value creates a version like PutSecretValue; a description-only update has no VersionId', async () => {
    const v1 = (await sm.send(new CreateSecretCommand({ Name: 'u', SecretString: '1' }))).VersionId!;
    const up = await sm.send(new UpdateSecretCommand({ SecretId: 'u', SecretString: '2' }));
    expect(up.VersionId).toBeDefined();
    expect(await stagesOf('u')).toEqual({ [v1]: ['AWSPREVIOUS'], [up.VersionId!]: ['AWSCURRENT'] });
    const desc = await sm.send(new UpdateSecretCommand({ SecretId: 'u', Description: 'orders DB login' }));
    expect(desc.VersionId).toBeUndefined();
    expect((await sm.send(new DescribeSecretCommand({ SecretId: 'u' }))).Description).toBe('orders DB login');
  });

  it('UpdateSecret: same token and value answers VersionId = token without a new version; other value → ResourceExistsException', async () => {
    await sm.send(new CreateSecretCommand({ Name: 'u2', SecretString: '1' }));
    const token = randomUUID();
    await sm.send(new UpdateSecretCommand({ SecretId: 'u2', SecretString: '2', ClientRequestToken: token }));
    const again = await sm.send(new UpdateSecretCommand({ SecretId: 'u2', SecretString: '2', ClientRequestToken: token }));
    expect(again.VersionId).toBe(token);
    expect(emu.getSecret(REGION, 'u2')!.versions).toHaveLength(2);
    await expectAwsError(
      sm.send(new UpdateSecretCommand({ SecretId: 'u2', SecretString: '3', ClientRequestToken: token })),
      'ResourceExistsException',
    );
  });

  it('UpdateSecret KmsKeyId "" returns the secret to the default key', async () => {
    await sm.send(new CreateSecretCommand({ Name: 'k', SecretString: '1', KmsKeyId: 'alias/a' }));
    await sm.send(new UpdateSecretCommand({ SecretId: 'k', KmsKeyId: 'alias/b' }));
    expect(emu.getSecret(REGION, 'k')!.kmsKeyId).toBe('alias/b');
    await sm.send(new UpdateSecretCommand({ SecretId: 'k', KmsKeyId: '' }));
    expect((await sm.send(new DescribeSecretCommand({ SecretId: 'k' }))).KmsKeyId).toBeUndefined();
  });
});

describe('GetSecretValue', () => {
  it('finds versions by VersionId and VersionStage, with AWS\'s errors for each miss', async () => {
    const v1 = (await sm.send(new CreateSecretCommand({ Name: 'g', SecretString: '1' }))).VersionId!;
    const v2 = (await sm.send(new PutSecretValueCommand({ SecretId: 'g', SecretString: '2' }))).VersionId!;
    expect((await sm.send(new GetSecretValueCommand({ SecretId: 'g', VersionId: v1 }))).SecretString).toBe('1');
    expect((await sm.send(new GetSecretValueCommand({ SecretId: 'g', VersionId: v2, VersionStage: 'AWSCURRENT' }))).SecretString).toBe('2');
    const unknown = randomUUID();
    await expectAwsError(
      sm.send(new GetSecretValueCommand({ SecretId: 'g', VersionId: unknown })),
      'ResourceNotFoundException',
      `Secrets Manager can't find the specified secret value for VersionId: ${unknown}`,
    );
    await expectAwsError(
      sm.send(new GetSecretValueCommand({ SecretId: 'g', VersionStage: 'AWSPENDING' })),
      'ResourceNotFoundException',
      "Secrets Manager can't find the specified secret value for staging label: AWSPENDING",
    );
    await expectAwsError(
      sm.send(new GetSecretValueCommand({ SecretId: 'g', VersionId: v1, VersionStage: 'AWSCURRENT' })),
      'InvalidRequestException',
      'You provided a VersionStage that is not associated to the provided VersionId.',
    );
    await expectAwsError(
      sm.send(new GetSecretValueCommand({ SecretId: 'missing' })),
      'ResourceNotFoundException',
      "Secrets Manager can't find the specified secret.",
    );
  });

  it('sends timestamps as fractional epoch seconds and LastAccessedDate at day granularity', async () => {
    clock.set(Date.UTC(2025, 2, 1, 10, 15, 0, 512));
    await sm.send(new CreateSecretCommand({ Name: 'ts', SecretString: '1' }));
    const get = await rawSecretsManager(emu, 'secretsmanager.GetSecretValue', JSON.stringify({ SecretId: 'ts' }));
    expect(get.json().CreatedDate).toBe(1740824100.512);
    const desc = (await rawSecretsManager(emu, 'secretsmanager.DescribeSecret', JSON.stringify({ SecretId: 'ts' }))).json();
    expect(desc.CreatedDate).toBe(1740824100.512);
    expect(desc.LastChangedDate).toBe(1740824100.512);
    expect(desc.LastAccessedDate).toBe(1740787200);
  });

  it('omits absent members instead of sending null', async () => {
    await sm.send(new CreateSecretCommand({ Name: 'nulls' }));
    for (const [target, body] of [
      ['DescribeSecret', { SecretId: 'nulls' }],
      ['ListSecrets', {}],
      ['ListSecretVersionIds', { SecretId: 'nulls' }],
      ['BatchGetSecretValue', { SecretIdList: ['nulls'] }],
    ] as const) {
      const res = await rawSecretsManager(emu, `secretsmanager.${target}`, JSON.stringify(body));
      expect(res.status).toBe(200);
      expect(findNulls(res.json())).toEqual([]);
    }
    const desc = (await rawSecretsManager(emu, 'secretsmanager.DescribeSecret', JSON.stringify({ SecretId: 'nulls' }))).json();
    expect(Object.keys(desc).sort()).toEqual(['ARN', 'CreatedDate', 'LastChangedDate', 'Name']);
  });
});

describe('ListSecretVersionIds and deprecated versions', () => {
  it('lists only labelled versions unless IncludeDeprecated', async () => {
    const start = clock();
    const ids = [(await sm.send(new CreateSecretCommand({ Name: 'lv', SecretString: '0' }))).VersionId!];
    for (let i = 1; i < 4; i++) {
      clock.advance(1000);
      ids.push((await sm.send(new PutSecretValueCommand({ SecretId: 'lv', SecretString: `${i}` }))).VersionId!);
    }
    const labelled = await sm.send(new ListSecretVersionIdsCommand({ SecretId: 'lv' }));
    expect(labelled.Versions!.map((v) => v.VersionId).sort()).toEqual([ids[2], ids[3]].sort());
    const all = await sm.send(new ListSecretVersionIdsCommand({ SecretId: 'lv', IncludeDeprecated: true }));
    expect(all.Versions!.map((v) => v.VersionId)).toEqual(ids);
    expect(all.Versions![0].VersionStages).toBeUndefined();
    // Each version keeps its own creation date (not "now").
    expect(all.Versions!.map((v) => v.CreatedDate!.getTime())).toEqual([start, start + 1000, start + 2000, start + 3000]);
    const paged = await sm.send(new ListSecretVersionIdsCommand({ SecretId: 'lv', IncludeDeprecated: true, MaxResults: 3 }));
    expect(paged.Versions).toHaveLength(3);
    const rest = await sm.send(
      new ListSecretVersionIdsCommand({ SecretId: 'lv', IncludeDeprecated: true, MaxResults: 3, NextToken: paged.NextToken }),
    );
    expect(rest.Versions!.map((v) => v.VersionId)).toEqual([ids[3]]);
    expect(rest.NextToken).toBeUndefined();
  });

  it('refuses more than 100 deprecated versions younger than 24 h with LimitExceededException', async () => {
    emu.setQuota('PutSecretValue', 1000);
    await sm.send(new CreateSecretCommand({ Name: 'churn', SecretString: 'x' }));
    // current + previous + 100 deprecated are retained
    for (let i = 0; i < 101; i++) await sm.send(new PutSecretValueCommand({ SecretId: 'churn', SecretString: `v${i}` }));
    expect(emu.getSecret(REGION, 'churn')!.versions).toHaveLength(102);
    await expectAwsError(sm.send(new PutSecretValueCommand({ SecretId: 'churn', SecretString: 'too many' })), 'LimitExceededException');
    expect(emu.getSecret(REGION, 'churn')!.versions).toHaveLength(102);
    expect((await sm.send(new GetSecretValueCommand({ SecretId: 'churn' }))).SecretString).toBe('v100');
    clock.advance(24 * 60 * 60 * 1000);
    await sm.send(new PutSecretValueCommand({ SecretId: 'churn', SecretString: 'later' }));
    expect(emu.getSecret(REGION, 'churn')!.versions).toHaveLength(102);
  });
});
