import { CreateSecretCommand, RotateSecretCommand, } from '@aws-sdk/client-secrets-manager';
import { describe, expect, it } from 'vitest';
import { expectAwsError, rawSecretsManager, smClient, useEmulator } from './helpers.js';

const { emu, sm } = useEmulator();

describe('awsJson1_1 wire format', () => {
  it('answers success with 200, application/x-amz-json-1.1, x-amzn-RequestId and Date', async () => {
    const res = await rawSecretsManager(emu, 'secretsmanager.ListSecrets', '{}');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/x-amz-json-1.1');
    expect(res.headers.get('x-amzn-requestid')).toMatch(/^[0-9a-f-]{36}$/);
    expect(Math.abs(Date.parse(res.headers.get('date')!) - Date.now())).toBeLessThan(5000);
    expect(res.json()).toEqual({ SecretList: [] });
  });

  it('answers errors with {"__type","Message"} (capital M), the same x-amzn-ErrorType, and 400 — never 404', async () => {
    const res = await rawSecretsManager(emu, 'secretsmanager.GetSecretValue', '{"SecretId":"missing"}');
    expect(res.status).toBe(400);
    expect(res.headers.get('x-amzn-errortype')).toBe('ResourceNotFoundException');
    expect(res.json()).toEqual({ __type: 'ResourceNotFoundException', Message: "Secrets Manager can't find the specified secret." });
  });

  it('answers a malformed JSON body with SerializationException', async () => {
    const res = await rawSecretsManager(emu, 'secretsmanager.CreateSecret', '{"Name": "x",');
    expect(res.status).toBe(400);
    expect(res.json().__type).toBe('SerializationException');
  });

  it('answers a member of the wrong JSON type with SerializationException', async () => {
    const res = await rawSecretsManager(emu, 'secretsmanager.DescribeSecret', '{"SecretId": 42}');
    expect(res.status).toBe(400);
    expect(res.json().__type).toBe('SerializationException');
  });

  it('answers a missing required member with a model ValidationException', async () => {
    const res = await rawSecretsManager(emu, 'secretsmanager.GetSecretValue', '{}');
    expect(res.json()).toEqual({
      __type: 'ValidationException',
      Message: "1 validation error detected: Value null at 'secretId' failed to satisfy constraint: Member must not be null",
    });
  });

  it('treats JSON null members as absent', async () => {
    const res = await rawSecretsManager(emu, 'secretsmanager.ListSecrets', '{"NextToken":null,"Filters":null}');
    expect(res.status).toBe(200);
  });

  it('answers an unknown X-Amz-Target with UnknownOperationException', async () => {
    const res = await rawSecretsManager(emu, 'secretsmanager.FlyToTheMoon', '{}');
    expect(res.status).toBe(400);
    expect(res.json().__type).toBe('UnknownOperationException');
  });

  it('answers a real but unimplemented operation with 501, which the SDK does not retry', async () => {
    await sm.send(new CreateSecretCommand({ Name: 'r', SecretString: 'v' }));
    const retrying = smClient(emu, { maxAttempts: 3 });
    const err = await expectAwsError(retrying.send(new RotateSecretCommand({ SecretId: 'r' })), 'NotImplemented', undefined, 501);
    expect(err.$metadata.attempts).toBe(1);
    retrying.destroy();
  });

  it('requires the awsJson1_1 content type', async () => {
    const res = await rawSecretsManager(emu, 'secretsmanager.ListSecrets', '{}', { headers: { 'content-type': 'application/json' } });
    expect(res.status).toBe(400);
    expect(res.json().__type).toBe('SerializationException');
  });
});
