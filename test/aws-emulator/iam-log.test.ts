/**
 * The request log records each IAM decision (principal, needed actions, evaluations with the
 * deciding statement) and answers the queries the policy suites of issue 12 make: "no call outside
 * these actions" and "no AccessDenied", in process and over the admin API.
 */
import {
  CreateSecretCommand,
  DescribeSecretCommand,
  ListSecretsCommand,
  PutSecretValueCommand,
  UpdateSecretCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { beforeEach, describe, expect, it } from 'vitest';
import { MINIMAL, SYNC_TAG } from '../support/aws-emulator/guide-policies.js';
import type { RequestLogEntry } from '../support/aws-emulator/index.js';
import { destroyAfterTest, expectAwsError, rawSecretsManager, REGION, registerUser, smClient, useEmulator } from './helpers.js';

const { emu, clock } = useEmulator();
let sync: { arn: string; sm: SecretsManagerClient; accessKeyId: string };
const GUIDE_ACTIONS = [...MINIMAL.Statement[0].Action];
const token = (n: number) => `${String(n).padStart(8, '0')}-aaaa-bbbb-cccc-dddddddddddd`;

beforeEach(() => {
  const { arn, credentials } = registerUser(emu, 'ferry-sync', { minimal: MINIMAL });
  sync = { arn, sm: destroyAfterTest(smClient(emu, { credentials })), accessKeyId: credentials.accessKeyId };
});

async function adminGet(path: string): Promise<{ status: number; body: any }> {
  const res = await fetch(`${emu.adminUrl}${path}`);
  return { status: res.status, body: await res.json() };
}

describe('each logged call shows its principal, needed actions and decision', () => {
  it('allowed and denied calls, with the deciding statement by policy and index', async () => {
    await sync.sm.send(new CreateSecretCommand({ Name: 'vault/app', SecretString: 'v1', ClientRequestToken: token(1), Tags: [{ Key: SYNC_TAG, Value: '' }] }));
    await expectAwsError(sync.sm.send(new DescribeSecretCommand({ SecretId: 'vault/app' })), 'AccessDeniedException');
    const arn = emu.getSecret(REGION, 'vault/app')!.arn;
    const [create, describe_] = emu.requestLog();
    expect(create).toMatchObject({
      service: 'secretsmanager',
      operation: 'CreateSecret',
      principalArn: sync.arn,
      actions: ['secretsmanager:CreateSecret', 'secretsmanager:TagResource'],
      decision: 'allowed',
      status: 200,
    });
    expect(create.evaluations).toEqual([
      { action: 'secretsmanager:CreateSecret', resource: arn, decision: 'allowed', basis: 'identityPolicy', statement: { policy: 'minimal', index: 0 } },
      { action: 'secretsmanager:TagResource', resource: arn, decision: 'allowed', basis: 'identityPolicy', statement: { policy: 'minimal', index: 0 } },
    ]);
    expect(describe_).toMatchObject({
      operation: 'DescribeSecret',
      principalArn: sync.arn,
      actions: ['secretsmanager:DescribeSecret'],
      decision: 'implicitDeny',
      status: 400,
      errorCode: 'AccessDeniedException',
      evaluations: [{ action: 'secretsmanager:DescribeSecret', resource: arn, decision: 'implicitDeny', basis: 'identityPolicy' }],
    });
  });

  it('a call refused before authorization has its needed actions but no decision', async () => {
    const badSignature = await rawSecretsManager(emu, 'secretsmanager.PutSecretValue', '{"SecretId":"vault/app"}', {
      credentials: { accessKeyId: sync.accessKeyId, secretAccessKey: 'wrong' },
    });
    expect(badSignature.status).toBe(400);
    const entry = emu.requestLog()[0];
    expect(entry).toMatchObject({ operation: 'PutSecretValue', actions: ['secretsmanager:PutSecretValue'], errorCode: 'InvalidSignatureException' });
    expect(entry.principalArn).toBeUndefined();
    expect(entry.decision).toBeUndefined();
  });
});

describe('queries', () => {
  async function scenario(): Promise<void> {
    await sync.sm.send(new CreateSecretCommand({ Name: 'vault/app', SecretString: 'v1', ClientRequestToken: token(1) }));
    clock.advance(1000);
    await sync.sm.send(new UpdateSecretCommand({ SecretId: 'vault/app', SecretString: 'v2', ClientRequestToken: token(2) }));
    // Throttled before authorization: still a PutSecretValue call, outside the guide's actions.
    emu.injectFault({ kind: 'throttle', operation: 'PutSecretValue' });
    await expectAwsError(sync.sm.send(new PutSecretValueCommand({ SecretId: 'vault/app', SecretString: 'v3', ClientRequestToken: token(3) })), 'ThrottlingException');
    await expectAwsError(sync.sm.send(new ListSecretsCommand({})), 'AccessDeniedException');
  }
  const ops = (entries: RequestLogEntry[]) => entries.map((e) => e.operation);

  it('"no call outside these actions" and "no AccessDenied", in process', async () => {
    await scenario();
    expect(ops(emu.requestLog({ notAction: GUIDE_ACTIONS }))).toEqual(['PutSecretValue', 'ListSecrets']);
    expect(ops(emu.requestLog({ decision: 'denied' }))).toEqual(['ListSecrets']);
    expect(ops(emu.requestLog({ decision: 'implicitDeny' }))).toEqual(['ListSecrets']);
    expect(ops(emu.requestLog({ decision: 'explicitDeny' }))).toEqual([]);
    expect(ops(emu.requestLog({ action: 'secretsmanager:update*' }))).toEqual(['UpdateSecret']);
    expect(ops(emu.requestLog({ errorCode: ['ThrottlingException', 'AccessDeniedException'] }))).toEqual(['PutSecretValue', 'ListSecrets']);
    expect(ops(emu.requestLog({ principalArn: sync.arn, operation: ['CreateSecret', 'UpdateSecret'] }))).toEqual(['CreateSecret', 'UpdateSecret']);
    expect(ops(emu.requestLog({ since: clock() }))).toEqual(['UpdateSecret', 'PutSecretValue', 'ListSecrets']);
    expect(emu.requestLog({ service: 'sts' })).toEqual([]);
  });

  it('the same over GET /_emulator/requests (repeat a parameter for a list)', async () => {
    await scenario();
    const outside = await adminGet(`/requests?${new URLSearchParams(GUIDE_ACTIONS.map((a): [string, string] => ['notAction', a])).toString()}`);
    expect(outside.status).toBe(200);
    expect(ops(outside.body)).toEqual(['PutSecretValue', 'ListSecrets']);
    expect(ops((await adminGet('/requests?decision=denied')).body)).toEqual(['ListSecrets']);
    expect(ops((await adminGet(`/requests?principalArn=${encodeURIComponent(sync.arn)}&operation=CreateSecret&operation=ListSecrets`)).body)).toEqual([
      'CreateSecret',
      'ListSecrets',
    ]);
    expect((await adminGet('/requests')).body).toHaveLength(4);
    expect(await adminGet('/requests?decision=maybe')).toEqual({ status: 400, body: { error: 'decision must be allowed, implicitDeny, explicitDeny or denied' } });
    expect((await adminGet('/requests?verdict=denied')).body.error).toMatch(/^unknown request-log filter verdict/);
  });
});
