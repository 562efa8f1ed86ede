import { SignJWT, exportSPKI, generateKeyPair } from 'jose';
import { beforeEach, describe, expect, it } from 'vitest';
import { approleRole, enableAuth, login, secretIdFor, useClockedServer } from './helpers.js';

/**
 * Renewing a login's token asks the method that issued it, as Vault's renew callbacks do: once
 * the user or role is gone (an offboarding), or the user's policies changed, the token is not
 * renewed and runs out at its current expiry.
 */
const t = useClockedServer();
beforeEach(async () => {
  for (const type of ['approle', 'userpass', 'jwt']) await enableAuth(t, type);
});

const renewSelf = (token: string) => t.call('POST', '/v1/auth/token/renew-self', { token, body: { increment: '2h' } });
const expireTime = async (token: string) => (await t.call('GET', '/v1/auth/token/lookup-self', { token })).json().data.expire_time as string;

async function expectNotRenewed(token: string, message: string) {
  const before = await expireTime(token);
  const res = await renewSelf(token);
  expect(res.json()).toEqual({ errors: [message] });
  expect(res.statusCode).toBe(400);
  // Nor through its accessor, by someone allowed to renew others' tokens.
  const accessor = (await t.call('GET', '/v1/auth/token/lookup-self', { token })).json().data.accessor as string;
  expect((await t.call('POST', '/v1/auth/token/renew-accessor', { body: { accessor } })).json()).toEqual({ errors: [message] });
  expect(await expireTime(token)).toBe(before);
}

describe('renewing a login token', () => {
  it('userpass: renewed while the user has its policies; not once they changed, nor once the user is deleted', async () => {
    await t.call('POST', '/v1/auth/userpass/users/alice', { body: { password: 'pw', token_policies: 'dev', token_ttl: '1h' } });
    const first = (await login(t, 'auth/userpass/login/alice', { password: 'pw' })).json().auth.client_token as string;
    expect((await renewSelf(first)).statusCode).toBe(200);

    await t.call('POST', '/v1/auth/userpass/users/alice/policies', { body: { token_policies: 'viewer' } });
    await expectNotRenewed(first, 'policies have changed, not renewing');
    const second = (await login(t, 'auth/userpass/login/alice', { password: 'pw' })).json().auth.client_token as string;
    expect((await renewSelf(second)).statusCode).toBe(200);

    expect((await t.call('DELETE', '/v1/auth/userpass/users/alice')).statusCode).toBe(204);
    await expectNotRenewed(second, 'user no longer exists, not renewing');
  });

  it('AppRole: not once its role is deleted', async () => {
    const roleId = await approleRole(t, 'ci', { token_policies: 'dev', token_ttl: '1h' });
    const { secret_id } = await secretIdFor(t, 'ci');
    const token = (await login(t, 'auth/approle/login', { role_id: roleId, secret_id })).json().auth.client_token as string;
    expect((await renewSelf(token)).statusCode).toBe(200);
    expect((await t.call('DELETE', '/v1/auth/approle/role/ci')).statusCode).toBe(204);
    await expectNotRenewed(token, 'role "ci" does not exist during renewal');
  });

  it('JWT: not once its role is deleted', async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
    await t.call('POST', '/v1/auth/jwt/config', { body: { jwt_validation_pubkeys: [await exportSPKI(publicKey)] } });
    await t.call('POST', '/v1/auth/jwt/role/svc', { body: { role_type: 'jwt', user_claim: 'sub', bound_subject: 'svc-a', token_ttl: '1h' } });
    const now = Math.floor(t.clock() / 1000);
    const jwt = await new SignJWT({ sub: 'svc-a', iat: now, exp: now + 60 }).setProtectedHeader({ alg: 'ES256' }).sign(privateKey);
    const token = (await login(t, 'auth/jwt/login', { role: 'svc', jwt })).json().auth.client_token as string;
    expect((await renewSelf(token)).statusCode).toBe(200);
    expect((await t.call('DELETE', '/v1/auth/jwt/role/svc')).statusCode).toBe(204);
    await expectNotRenewed(token, 'role svc does not exist during renewal');
  });
});
