import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { startTestServer } from '../support/app.js';
import { closeAfterTest, tempDirForTest } from '../support/fixtures.js';
import { startTestIssuer } from '../support/oidc-issuer.js';
import { leaks } from '../security/support.js';
import { approleRole, enableAuth, login, secretIdFor } from './helpers.js';

/**
 * Logins in the audit log: each is recorded (request and response), with the password, the
 * secret ID, the JWT and the issued token only as HMACs — never in clear, in any encoding.
 */
describe('logins in the audit log', () => {
  it('records userpass, AppRole and JWT logins with their secrets HMACed', async () => {
    const t = closeAfterTest(await startTestServer());
    const issuer = closeAfterTest(await startTestIssuer());
    const file = path.join(tempDirForTest('ferry-auth-audit-'), 'audit.log');
    expect((await t.call('PUT', '/v1/sys/audit/file', { body: { type: 'file', options: { file_path: file } } })).statusCode).toBe(204);

    await enableAuth(t, 'userpass');
    const password = 'pw-under-audit-5e1f';
    await t.call('POST', '/v1/auth/userpass/users/alice', { body: { password } });
    const userpass = await login(t, 'auth/userpass/login/alice', { password });
    const wrong = await login(t, 'auth/userpass/login/alice', { password: `${password}-wrong` });

    await enableAuth(t, 'approle');
    const roleId = await approleRole(t, 'ci');
    const { secret_id } = await secretIdFor(t, 'ci');
    const approle = await login(t, 'auth/approle/login', { role_id: roleId, secret_id });

    await enableAuth(t, 'jwt');
    await t.call('POST', '/v1/auth/jwt/config', { body: { oidc_discovery_url: issuer.url } });
    await t.call('POST', '/v1/auth/jwt/role/ci', { body: { role_type: 'jwt', user_claim: 'actor', bound_audiences: 'https://github.com/org' } });
    const jwt = await issuer.token();
    const jwtLogin = await login(t, 'auth/jwt/login', { role: 'ci', jwt });
    expect([userpass.statusCode, wrong.statusCode, approle.statusCode, jwtLogin.statusCode]).toEqual([200, 400, 200, 200]);

    const log = fs.readFileSync(file);
    const entries = log
      .toString('utf8')
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l));
    const logins = entries.filter((e) => /^auth\/(userpass\/login|approle\/login|jwt\/login)/.test(e.request.path));
    expect(logins.map((e) => [e.type, e.request.path, e.error ?? ''])).toEqual([
      ['request', 'auth/userpass/login/alice', ''],
      ['response', 'auth/userpass/login/alice', ''],
      ['request', 'auth/userpass/login/alice', ''],
      ['response', 'auth/userpass/login/alice', 'invalid username or password'],
      ['request', 'auth/approle/login', ''],
      ['response', 'auth/approle/login', ''],
      ['request', 'auth/jwt/login', ''],
      ['response', 'auth/jwt/login', ''],
    ]);

    const hash = async (value: string) => (await t.call('POST', '/v1/sys/audit-hash/file', { body: { input: value } })).json().data.hash;
    expect(logins[0].request.data).toEqual({ password: await hash(password) });
    expect(logins[4].request.data).toEqual({ role_id: await hash(roleId), secret_id: await hash(secret_id) });
    expect(logins[6].request.data).toEqual({ role: await hash('ci'), jwt: await hash(jwt) });
    const issued = logins[1].response.auth;
    expect(issued.client_token).toBe(await hash(userpass.json().auth.client_token));
    expect(issued.metadata).toEqual({ username: 'alice' });

    const secrets = [
      password,
      secret_id,
      jwt,
      jwt.split('.')[2]!,
      ...[userpass, approle, jwtLogin].flatMap((r) => [r.json().auth.client_token, r.json().auth.accessor]),
    ];
    for (const secret of secrets) expect(leaks(log, secret), secret.slice(0, 12)).toEqual([]);
  });
});
