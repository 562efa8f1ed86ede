import { AssumeRoleWithWebIdentityCommand } from '@aws-sdk/client-sts';
import { CreateSecretCommand, GetSecretValueCommand, ListSecretsCommand } from '@aws-sdk/client-secrets-manager';
import { describe, expect, it } from 'vitest';
import { claims, expectAwsError, REGION, ROLE_ARN, smClient, startIssuer, stsClient, type TestIssuer, useEmulator } from './helpers.js';

const { emu, clock } = useEmulator();

async function admin(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${emu.adminUrl}${path}`, {
    method,
    ...(body !== undefined ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: text === '' ? undefined : JSON.parse(text) };
}

describe('HTTP admin API under /_emulator', () => {
  it('lives under one prefix of the endpoint', async () => {
    expect(emu.adminUrl).toBe(`${emu.endpoint}/_emulator`);
    expect(await admin('GET', '/health')).toEqual({ status: 200, body: { status: 'ok' } });
  });

  it('registers OIDC providers and roles that AssumeRoleWithWebIdentity then honours', async () => {
    const idp: TestIssuer = await startIssuer();
    try {
      const provider = await admin('POST', '/oidc-providers', { url: idp.issuer, clientIds: ['sts.amazonaws.com'] });
      expect(provider).toEqual({ status: 201, body: { arn: `arn:aws:iam::123456789012:oidc-provider/${idp.name}` } });
      const role = await admin('POST', '/roles', { roleName: 'ferry-sync', trust: { provider: idp.name, sub: 'system:serviceaccount:ferry:*' } });
      expect(role).toEqual({ status: 201, body: { arn: ROLE_ARN } });
      const sts = stsClient(emu);
      const out = await sts.send(
        new AssumeRoleWithWebIdentityCommand({ RoleArn: ROLE_ARN, RoleSessionName: 'admin', WebIdentityToken: await idp.sign(claims(idp, clock)) }),
      );
      expect(out.Credentials!.AccessKeyId).toMatch(/^ASIA/);
      sts.destroy();
    } finally {
      await idp.close();
    }
  });

  it('maps access keys to accounts', async () => {
    expect((await admin('POST', '/access-keys', { accessKeyId: 'AKIAADMINMAPPED00001', secretAccessKey: 's', accountId: '999988887777' })).status).toBe(204);
    const sm = smClient(emu, { credentials: { accessKeyId: 'AKIAADMINMAPPED00001', secretAccessKey: 's' } });
    await sm.send(new CreateSecretCommand({ Name: 'mapped', SecretString: 'v' }));
    expect(await admin('GET', `/secrets?region=${REGION}&accountId=999988887777`)).toEqual({ status: 200, body: { names: ['mapped'] } });
    sm.destroy();
  });

  it('reads secrets, the request log, quotas and faults; sets quotas and moves the clock', async () => {
    const sm = smClient(emu);
    await sm.send(new CreateSecretCommand({ Name: 'a/b', SecretString: 'v', Tags: [{ Key: 't', Value: '1' }] }));
    const secret = await admin('GET', `/secret?region=${REGION}&name=a/b`);
    expect(secret.status).toBe(200);
    expect(secret.body).toMatchObject({ name: 'a/b', tags: [{ Key: 't', Value: '1' }], versions: [{ stages: ['AWSCURRENT'], secretString: 'v' }] });
    expect((await admin('GET', `/secret?region=${REGION}&name=nope`)).status).toBe(404);

    const log = await admin('GET', '/requests');
    expect(log.body.map((e: { operation: string }) => e.operation)).toEqual(['CreateSecret']);
    expect((await admin('DELETE', '/requests')).status).toBe(204);
    expect((await admin('GET', '/requests')).body).toEqual([]);

    expect((await admin('PUT', '/quotas/ListSecrets', { perSecond: 1 })).status).toBe(204);
    expect((await admin('GET', '/quotas')).body.ListSecrets).toBe(1);
    await sm.send(new ListSecretsCommand({}));
    await expectAwsError(sm.send(new ListSecretsCommand({})), 'ThrottlingException');

    expect((await admin('POST', '/faults', { kind: '500', operation: 'GetSecretValue', count: 1 })).status).toBe(204);
    expect((await admin('GET', '/faults')).body).toEqual([{ kind: '500', operation: 'GetSecretValue', count: 1 }]);
    await expectAwsError(sm.send(new GetSecretValueCommand({ SecretId: 'a/b' })), 'InternalServiceError', undefined, 500);
    await admin('POST', '/faults', { kind: 'throttle', count: 3 });
    expect((await admin('DELETE', '/faults')).status).toBe(204);
    await sm.send(new GetSecretValueCommand({ SecretId: 'a/b' }));

    const before = (await admin('GET', '/clock')).body.now;
    expect((await admin('POST', '/clock', { advanceMs: 60_000 })).body.now).toBe(before + 60_000);
    expect(emu.now()).toBe(clock() + 60_000);
    sm.destroy();
  });

  it('answers bad input with 400 and unknown routes with 404', async () => {
    expect((await admin('POST', '/faults', { kind: 'meteor' })).status).toBe(400);
    expect((await admin('POST', '/oidc-providers', { url: 'ftp://x', clientIds: ['a'] })).status).toBe(400);
    expect((await admin('POST', '/roles', { roleName: 'r', trust: {}, maxSessionDuration: 60 })).status).toBe(400);
    expect((await admin('PUT', '/quotas/Nope', { perSecond: 1 })).status).toBe(400);
    expect((await admin('GET', '/nothing-here')).status).toBe(404);
    expect((await admin('PATCH', '/faults')).status).toBe(405);
  });
});
