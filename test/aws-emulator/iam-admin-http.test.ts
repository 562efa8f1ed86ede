/**
 * The admin HTTP API for IAM principals and policies (`/_emulator/users`, `/policies`,
 * `/inline-policies`, `/attached-policies`, `/principal`, policies on `/roles`), driven with
 * fetch while the real SDK feels the result.
 */
import { CreateSecretCommand, GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { beforeEach, describe, expect, it } from 'vitest';
import { MINIMAL } from '../support/aws-emulator/guide-policies.js';
import { ACCOUNT, destroyAfterTest, expectAwsError, onePolicy, smClient, useEmulator } from './helpers.js';

const { emu, sm } = useEmulator();

beforeEach(async () => {
  await sm.send(new CreateSecretCommand({ Name: 'prod/app', SecretString: 'x' }));
});

function client(credentials: { accessKeyId: string; secretAccessKey: string }): SecretsManagerClient {
  return destroyAfterTest(smClient(emu, { credentials }));
}

async function admin(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${emu.adminUrl}${path}`, {
    method,
    ...(body !== undefined ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: text === '' ? undefined : JSON.parse(text) };
}

const KEY = { accessKeyId: 'AKIAFERRYSYNC0000001', secretAccessKey: 'sync-secret' };
const USER_ARN = `arn:aws:iam::${ACCOUNT}:user/ferry-sync`;

describe('users and their policies over HTTP', () => {
  it('POST /users registers a user with keys and the guide minimal policy (a JSON string is accepted)', async () => {
    const created = await admin('POST', '/users', { userName: 'ferry-sync', accessKeys: [KEY], inlinePolicies: { minimal: JSON.stringify(MINIMAL) } });
    expect(created).toEqual({ status: 201, body: { arn: USER_ARN, userId: expect.stringMatching(/^AIDA[A-Z0-9]{17}$/) } });
    const sync = client(KEY);
    await sync.send(new CreateSecretCommand({ Name: 'vault/app', SecretString: 'x' }));
    await expectAwsError(sync.send(new GetSecretValueCommand({ SecretId: 'vault/app' })), 'AccessDeniedException');
    expect(await admin('GET', `/principal?arn=${encodeURIComponent(USER_ARN)}`)).toEqual({
      status: 200,
      body: { arn: USER_ARN, kind: 'user', accountId: ACCOUNT, unrestricted: false, inlinePolicies: { minimal: MINIMAL }, attachedPolicyArns: [] },
    });
  });

  it('refuses a malformed document with 400 and a message naming the element; nothing is registered', async () => {
    const bad = await admin('POST', '/users', {
      userName: 'ferry-sync',
      accessKeys: [KEY],
      inlinePolicies: { minimal: { Version: '2012-10-17', Statement: [{ Effect: 'Permit', Action: '*', Resource: '*' }] } },
    });
    expect(bad).toEqual({ status: 400, body: { error: 'MalformedPolicyDocument: inline policy minimal: Statement[0].Effect must be "Allow" or "Deny"' } });
    expect((await admin('GET', `/principal?arn=${encodeURIComponent(USER_ARN)}`)).status).toBe(404);
    // The key was not mapped to the user: it is still an unrestricted default-account key.
    await client(KEY).send(new GetSecretValueCommand({ SecretId: 'prod/app' }));
    expect((await admin('POST', '/users', { userName: 'bad name!' })).body.error).toBe('userName must be 1-64 characters of [\\w+=,.@-] (optionally after a path)');
    expect((await admin('POST', '/users', { userName: 'u', accessKeys: [{ accessKeyId: 'nope' }] })).status).toBe(400);
  });

  it('PUT and DELETE /inline-policies, POST /policies, PUT and DELETE /attached-policies', async () => {
    await admin('POST', '/users', { userName: 'ferry-sync', accessKeys: [KEY] });
    const user = client(KEY);
    await user.send(new GetSecretValueCommand({ SecretId: 'prod/app' }));

    const deny = onePolicy({ Effect: 'Deny', Action: 'secretsmanager:GetSecretValue', Resource: '*' });
    expect((await admin('PUT', '/inline-policies', { principalArn: USER_ARN, policyName: 'no-read', document: deny })).status).toBe(204);
    await expectAwsError(user.send(new GetSecretValueCommand({ SecretId: 'prod/app' })), 'AccessDeniedException');
    expect((await admin('DELETE', '/inline-policies', { principalArn: USER_ARN, policyName: 'no-read' })).status).toBe(204);
    expect(await admin('DELETE', '/inline-policies', { principalArn: USER_ARN, policyName: 'no-read' })).toEqual({
      status: 400,
      body: { error: `${USER_ARN} has no inline policy no-read` },
    });

    const policy = await admin('POST', '/policies', { policyName: 'ferry/read', document: onePolicy({ Effect: 'Allow', Action: 'secretsmanager:Get*', Resource: '*' }) });
    expect(policy).toEqual({ status: 201, body: { arn: `arn:aws:iam::${ACCOUNT}:policy/ferry/read` } });
    expect((await admin('PUT', '/attached-policies', { principalArn: USER_ARN, policyArn: policy.body.arn })).status).toBe(204);
    expect((await admin('GET', `/principal?arn=${encodeURIComponent(USER_ARN)}`)).body).toMatchObject({ unrestricted: false, attachedPolicyArns: [policy.body.arn] });
    await user.send(new GetSecretValueCommand({ SecretId: 'prod/app' }));
    await expectAwsError(user.send(new CreateSecretCommand({ Name: 'x', SecretString: 'x' })), 'AccessDeniedException');
    expect((await admin('DELETE', '/attached-policies', { principalArn: USER_ARN, policyArn: policy.body.arn })).status).toBe(204);
    await user.send(new CreateSecretCommand({ Name: 'x', SecretString: 'x' }));

    expect(await admin('PUT', '/attached-policies', { principalArn: USER_ARN, policyArn: `arn:aws:iam::${ACCOUNT}:policy/missing` })).toEqual({
      status: 400,
      body: { error: `no managed policy arn:aws:iam::${ACCOUNT}:policy/missing (create it first)` },
    });
    expect((await admin('PUT', '/inline-policies', { principalArn: 'arn:aws:iam::123456789012:user/nobody', policyName: 'p', document: deny })).body).toEqual({
      error: 'no registered user or role arn:aws:iam::123456789012:user/nobody',
    });
  });

  it('POST /roles takes inline and attached policies', async () => {
    const policy = await admin('POST', '/policies', { policyName: 'read', document: onePolicy({ Effect: 'Allow', Action: 'secretsmanager:Get*', Resource: '*' }) });
    const role = await admin('POST', '/roles', {
      roleName: 'ferry-sync',
      trust: {},
      inlinePolicies: { minimal: MINIMAL },
      attachedPolicyArns: [policy.body.arn],
    });
    expect(role).toEqual({ status: 201, body: { arn: `arn:aws:iam::${ACCOUNT}:role/ferry-sync` } });
    expect((await admin('GET', `/principal?arn=${encodeURIComponent(role.body.arn)}`)).body).toEqual({
      arn: role.body.arn,
      kind: 'role',
      accountId: ACCOUNT,
      unrestricted: false,
      inlinePolicies: { minimal: MINIMAL },
      attachedPolicyArns: [policy.body.arn],
    });
    expect((await admin('GET', '/principal')).status).toBe(400);
  });
});
