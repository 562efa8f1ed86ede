import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  PutSecretValueCommand,
  RemoveRegionsFromReplicationCommand,
  ReplicateSecretToRegionsCommand,
  TagResourceCommand,
} from '@aws-sdk/client-secrets-manager';
import { describe, expect, it } from 'vitest';
import { perTest } from '../support/fixtures.js';
import { expectAwsError, smClient, useEmulator } from './helpers.js';

const { emu, sm: primary } = useEmulator();
const replica = perTest('the us-east-1 client', async () => smClient(emu, { region: 'us-east-1' }), (c) => c.destroy());
const REPLICA_ONLY = "Operation not permitted on a replica secret. Call must be made in primary secret's region.";

describe('replication', () => {
  it('answers InProgress, then DescribeSecret shows InSync; the replica has the primary\'s ARN in its region', async () => {
    const { ARN } = await primary.send(new CreateSecretCommand({ Name: 'rep', SecretString: 'v1' }));
    const out = await primary.send(new ReplicateSecretToRegionsCommand({ SecretId: 'rep', AddReplicaRegions: [{ Region: 'us-east-1' }] }));
    expect(out.ARN).toBe(ARN);
    expect(out.ReplicationStatus).toEqual([{ Region: 'us-east-1', KmsKeyId: 'alias/aws/secretsmanager', Status: 'InProgress' }]);
    const desc = await primary.send(new DescribeSecretCommand({ SecretId: 'rep' }));
    expect(desc.ReplicationStatus![0]).toMatchObject({ Region: 'us-east-1', Status: 'InSync' });
    expect(desc.PrimaryRegion).toBe('eu-west-1');
    const onReplica = await replica.send(new DescribeSecretCommand({ SecretId: 'rep' }));
    expect(onReplica.ARN).toBe(ARN!.replace('eu-west-1', 'us-east-1'));
    expect(onReplica.PrimaryRegion).toBe('eu-west-1');
    expect(onReplica.ReplicationStatus).toBeUndefined();
  });

  it('serves the primary\'s current value from the replica region', async () => {
    await primary.send(new CreateSecretCommand({ Name: 'rep', SecretString: 'v1', AddReplicaRegions: [{ Region: 'us-east-1' }] }));
    await primary.send(new PutSecretValueCommand({ SecretId: 'rep', SecretString: 'v2' }));
    expect((await replica.send(new GetSecretValueCommand({ SecretId: 'rep' }))).SecretString).toBe('v2');
    expect((await replica.send(new ListSecretsCommand({}))).SecretList!.map((s) => [s.Name, s.PrimaryRegion])).toEqual([['rep', 'eu-west-1']]);
  });

  it('rejects writes, tags and deletes on a replica', async () => {
    await primary.send(new CreateSecretCommand({ Name: 'rep', SecretString: 'v1', AddReplicaRegions: [{ Region: 'us-east-1' }] }));
    await expectAwsError(replica.send(new PutSecretValueCommand({ SecretId: 'rep', SecretString: 'x' })), 'InvalidRequestException', REPLICA_ONLY);
    await expectAwsError(replica.send(new TagResourceCommand({ SecretId: 'rep', Tags: [{ Key: 'a', Value: 'b' }] })), 'InvalidRequestException', REPLICA_ONLY);
    await expectAwsError(replica.send(new DeleteSecretCommand({ SecretId: 'rep' })), 'InvalidRequestException', REPLICA_ONLY);
  });

  it('refuses to delete a primary that still has replicas; RemoveRegionsFromReplication deletes the replica at once', async () => {
    await primary.send(new CreateSecretCommand({ Name: 'rep', SecretString: 'v1', AddReplicaRegions: [{ Region: 'us-east-1' }] }));
    await expectAwsError(primary.send(new DeleteSecretCommand({ SecretId: 'rep' })), 'InvalidRequestException');
    const out = await primary.send(new RemoveRegionsFromReplicationCommand({ SecretId: 'rep', RemoveReplicaRegions: ['us-east-1'] }));
    expect(out.ReplicationStatus).toEqual([]);
    await expectAwsError(replica.send(new DescribeSecretCommand({ SecretId: 'rep' })), 'ResourceNotFoundException');
    await primary.send(new DeleteSecretCommand({ SecretId: 'rep' }));
  });

  it('marks a replica Failed when the name exists in the target region, unless forced', async () => {
    await replica.send(new CreateSecretCommand({ Name: 'clash', SecretString: 'local' }));
    await primary.send(new CreateSecretCommand({ Name: 'clash', SecretString: 'primary' }));
    const out = await primary.send(new ReplicateSecretToRegionsCommand({ SecretId: 'clash', AddReplicaRegions: [{ Region: 'us-east-1' }] }));
    expect(out.ReplicationStatus![0].Status).toBe('Failed');
    expect(out.ReplicationStatus![0].StatusMessage).toMatch(/already exists/);
    expect((await replica.send(new GetSecretValueCommand({ SecretId: 'clash' }))).SecretString).toBe('local');
    await primary.send(
      new ReplicateSecretToRegionsCommand({ SecretId: 'clash', AddReplicaRegions: [{ Region: 'us-east-1' }], ForceOverwriteReplicaSecret: true }),
    );
    expect((await replica.send(new GetSecretValueCommand({ SecretId: 'clash' }))).SecretString).toBe('primary');
  });

  it('rejects the primary region as a replica region', async () => {
    await primary.send(new CreateSecretCommand({ Name: 'self', SecretString: 'v' }));
    await expectAwsError(
      primary.send(new ReplicateSecretToRegionsCommand({ SecretId: 'self', AddReplicaRegions: [{ Region: 'eu-west-1' }] })),
      'InvalidParameterException',
    );
    await expectAwsError(
      primary.send(new CreateSecretCommand({ Name: 'self2', SecretString: 'v', AddReplicaRegions: [{ Region: 'eu-west-1' }] })),
      'InvalidParameterException',
    );
  });
});
