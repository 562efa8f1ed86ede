import {
  CreateSecretCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  PutSecretValueCommand,
  SecretsManagerServiceException,
  TagResourceCommand,
  UpdateSecretCommand,
} from '@aws-sdk/client-secrets-manager';
import { AssumeRoleWithWebIdentityCommand } from '@aws-sdk/client-sts';
import { beforeEach, describe, expect, it } from 'vitest';
import { expectAwsError, rawSecretsManager, REGION, ROLE_ARN, smClient, startEmulator, stsClient, useEmulator } from './helpers.js';

// Buckets refill on the test clock alone: a loaded machine must not refill one between two calls.
const { emu, clock, sm } = useEmulator({ quotaRefill: 'clock' });

beforeEach(async () => {
  await sm.send(new CreateSecretCommand({ Name: 'q', SecretString: 'v' }));
  emu.clearRequestLog();
});

const get = (client = sm) => client.send(new GetSecretValueCommand({ SecretId: 'q' }));

describe('quotas', () => {
  it('answers ThrottlingException (HTTP 400, "Rate exceeded") past the quota; moving the clock refills', async () => {
    emu.setQuota('GetSecretValue', 2);
    await get();
    await get();
    const err = await expectAwsError(get(), 'ThrottlingException', 'Rate exceeded', 400);
    expect(err).toBeInstanceOf(SecretsManagerServiceException);
    const raw = await rawSecretsManager(emu, 'secretsmanager.GetSecretValue', '{"SecretId":"q"}');
    expect(raw.json()).toEqual({ __type: 'ThrottlingException', Message: 'Rate exceeded' });
    expect(raw.headers.get('x-amzn-errortype')).toBe('ThrottlingException');
    clock.advance(1000);
    await get();
    await get();
  });

  it('shares one bucket between the operations of a quota class', async () => {
    emu.setQuota('SecretWrites', 2);
    await sm.send(new PutSecretValueCommand({ SecretId: 'q', SecretString: '1' }));
    await sm.send(new UpdateSecretCommand({ SecretId: 'q', Description: 'd' }));
    await expectAwsError(sm.send(new PutSecretValueCommand({ SecretId: 'q', SecretString: '2' })), 'ThrottlingException');
    // Tagging is its own class, reads are another.
    await sm.send(new TagResourceCommand({ SecretId: 'q', Tags: [{ Key: 'a', Value: 'b' }] }));
    await get();
  });

  it('keeps buckets per account and region', async () => {
    emu.setQuota('ListSecrets', 1);
    await sm.send(new ListSecretsCommand({}));
    await expectAwsError(sm.send(new ListSecretsCommand({})), 'ThrottlingException');
    const us = smClient(emu, { region: 'us-west-2' });
    await us.send(new ListSecretsCommand({}));
    emu.mapAccessKey('AKIAOTHERACCOUNT0001', 's', '222233334444');
    const other = smClient(emu, { credentials: { accessKeyId: 'AKIAOTHERACCOUNT0001', secretAccessKey: 's' } });
    await other.send(new ListSecretsCommand({}));
    us.destroy();
    other.destroy();
  });

  it('takes quota overrides at start', async () => {
    const { emu: limited } = await startEmulator({ quotas: { BatchGetSecretValue: 1, ListSecrets: 1 }, quotaRefill: 'clock' });
    const c = smClient(limited);
    await c.send(new ListSecretsCommand({}));
    await expectAwsError(c.send(new ListSecretsCommand({})), 'ThrottlingException');
    c.destroy();
    await limited.close();
  });

  it('rejects an unknown quota class', () => {
    expect(() => emu.setQuota('NoSuchThing', 1)).toThrow(/unknown quota class/);
  });

  it('throttles STS with the query-protocol code Throttling', async () => {
    emu.setQuota('STS', 1);
    const sts = stsClient(emu);
    const call = () =>
      sts.send(new AssumeRoleWithWebIdentityCommand({ RoleArn: ROLE_ARN, RoleSessionName: 'sess', WebIdentityToken: 'a.b.c' }));
    await expectAwsError(call(), 'InvalidIdentityTokenException');
    await expectAwsError(call(), 'Throttling', 'Rate exceeded', 400);
    sts.destroy();
  });
});

describe('faults', () => {
  it('500: the next call fails with InternalServiceError; the SDK\'s retry then succeeds', async () => {
    emu.injectFault({ kind: '500' });
    await expectAwsError(get(), 'InternalServiceError', undefined, 500);
    emu.injectFault({ kind: '500', count: 1 });
    const retrying = smClient(emu, { maxAttempts: 3 });
    const out = await get(retrying);
    expect(out.$metadata.attempts).toBe(2);
    retrying.destroy();
  });

  it('throttle: answers ThrottlingException for the next N calls', async () => {
    emu.injectFault({ kind: 'throttle', count: 2 });
    await expectAwsError(get(), 'ThrottlingException', 'Rate exceeded');
    await expectAwsError(get(), 'ThrottlingException');
    await get();
  });

  it('only hits the named operation', async () => {
    emu.injectFault({ kind: '500', operation: 'PutSecretValue', count: 1 });
    await get();
    await expectAwsError(sm.send(new PutSecretValueCommand({ SecretId: 'q', SecretString: 'x' })), 'InternalServiceError', undefined, 500);
    await sm.send(new PutSecretValueCommand({ SecretId: 'q', SecretString: 'x' }));
  });

  it('applies a time-window fault until untilMs on the emulator clock', async () => {
    emu.injectFault({ kind: '500', untilMs: clock() + 5000 });
    await expectAwsError(get(), 'InternalServiceError', undefined, 500);
    await expectAwsError(get(), 'InternalServiceError', undefined, 500);
    clock.advance(5000);
    await get();
  });

  it('latency: holds the next call for latencyMs, then answers it as usual; the log records the delay', async () => {
    emu.injectFault({ kind: 'latency', latencyMs: 60 });
    expect((await get()).SecretString).toBe('v');
    await get();
    // Only the first call was held: the fault's count (1) is used up.
    expect(emu.requestLog().map((e) => [e.operation, e.status, e.delayedMs])).toEqual([
      ['GetSecretValue', 200, 60],
      ['GetSecretValue', 200, undefined],
    ]);
  });

  it('reset: the connection drops with ECONNRESET and the call is not applied', async () => {
    emu.injectFault({ kind: 'reset', operation: 'PutSecretValue' });
    const err = (await sm.send(new PutSecretValueCommand({ SecretId: 'q', SecretString: 'lost' })).catch((e: unknown) => e)) as NodeJS.ErrnoException;
    expect(err.code).toBe('ECONNRESET');
    expect(emu.getSecret(REGION, 'q')!.versions).toHaveLength(1);
    expect(emu.requestLog().at(-1)).toMatchObject({ operation: 'PutSecretValue', status: 0, errorCode: 'ConnectionReset' });
  });

  it('reset with applyBeforeReset: applied but unanswered; the SDK retry with the same token is a no-op', async () => {
    emu.injectFault({ kind: 'reset', operation: 'PutSecretValue', applyBeforeReset: true });
    const retrying = smClient(emu, { maxAttempts: 3 });
    const out = await retrying.send(new PutSecretValueCommand({ SecretId: 'q', SecretString: 'once' }));
    expect(out.$metadata.attempts).toBe(2);
    expect(emu.getSecret(REGION, 'q')!.versions.map((v) => v.secretString)).toEqual(['v', 'once']);
    const puts = emu.requestLog().filter((e) => e.operation === 'PutSecretValue');
    expect(puts.map((e) => [e.status, e.clientRequestToken, e.sdkAttempt])).toEqual([
      [0, out.VersionId, 1],
      [200, out.VersionId, 2],
    ]);
    expect(puts[0].sdkInvocationId).toBe(puts[1].sdkInvocationId);
    retrying.destroy();
  });

  it('refuse: calls are dropped on arrival, then served again; the admin API stays reachable', async () => {
    emu.injectFault({ kind: 'refuse', count: 1 });
    expect((await fetch(`${emu.adminUrl}/health`)).status).toBe(200);
    const err = (await get().catch((e: unknown) => e)) as NodeJS.ErrnoException;
    expect(err.code).toBe('ECONNRESET');
    await get();
  });

  it('clearFaults removes every pending fault', async () => {
    emu.injectFault({ kind: '500', count: 5 });
    emu.injectFault({ kind: 'throttle', operation: 'GetSecretValue', count: 5 });
    emu.clearFaults();
    expect((await get()).SecretString).toBe('v');
    expect((await get()).SecretString).toBe('v');
    expect(emu.requestLog().map((e) => [e.operation, e.status, e.errorCode])).toEqual([
      ['GetSecretValue', 200, undefined],
      ['GetSecretValue', 200, undefined],
    ]);
  });
});

describe('request log', () => {
  it('records operation, secret, token, time, account, region, key and outcome of each call', async () => {
    clock.set(1_740_824_100_000);
    const put = await sm.send(new PutSecretValueCommand({ SecretId: 'q', SecretString: 'x' }));
    await expectAwsError(sm.send(new GetSecretValueCommand({ SecretId: 'missing' })), 'ResourceNotFoundException');
    const log = emu.requestLog();
    expect(log).toHaveLength(2);
    expect(log[0]).toMatchObject({
      time: 1_740_824_100_000,
      service: 'secretsmanager',
      operation: 'PutSecretValue',
      accountId: '123456789012',
      region: REGION,
      secretId: 'q',
      clientRequestToken: put.VersionId,
      accessKeyId: 'AKIAEMULATOR00000001',
      status: 200,
    });
    expect(log[0].errorCode).toBeUndefined();
    expect(log[1]).toMatchObject({ operation: 'GetSecretValue', secretId: 'missing', status: 400, errorCode: 'ResourceNotFoundException' });
    emu.clearRequestLog();
    expect(emu.requestLog()).toEqual([]);
  });
});
