import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logging.js';
import { startTestServer } from '../support/app.js';
import { closeAfterTest } from '../support/fixtures.js';
import { startTestIssuer } from '../support/oidc-issuer.js';
import { approleRole, enableAuth, login, secretIdFor } from './helpers.js';

/** Logins, good and refused, at the most verbose log level: no credential reaches a log line. */
describe('auth log hygiene', () => {
  it('never writes a password, secret ID, JWT or issued token to a log line', async () => {
    const lines: string[] = [];
    const stream = new Writable({
      write(chunk, _enc, cb) {
        lines.push(chunk.toString());
        cb();
      },
    });
    const t = closeAfterTest(await startTestServer({ logger: createLogger('trace', stream as any) }));
    const issuer = closeAfterTest(await startTestIssuer());
    const password = 'pw-log-marker-91c2';
    await enableAuth(t, 'userpass');
    await t.call('POST', '/v1/auth/userpass/users/alice', { body: { password } });
    await enableAuth(t, 'approle');
    const roleId = await approleRole(t, 'ci');
    const { secret_id } = await secretIdFor(t, 'ci');
    await enableAuth(t, 'jwt');
    await t.call('POST', '/v1/auth/jwt/config', { body: { jwks_url: `${issuer.url}/.well-known/jwks` } });
    await t.call('POST', '/v1/auth/jwt/role/ci', { body: { role_type: 'jwt', user_claim: 'actor', bound_audiences: 'x' } });
    const jwt = await issuer.token();

    const results = [
      await login(t, 'auth/userpass/login/alice', { password }),
      await login(t, 'auth/userpass/login/alice', { password: `${password}-wrong` }),
      await login(t, 'auth/approle/login', { role_id: roleId, secret_id }),
      await login(t, 'auth/approle/login', { role_id: roleId, secret_id: `${secret_id}-wrong` }),
      await login(t, 'auth/jwt/login', { role: 'ci', jwt }),
      await t.call('POST', '/v1/auth/jwt/login', { token: null, rawBody: `{"role":"ci","jwt":"${jwt}` }),
    ];
    expect(results.map((r) => r.statusCode)).toEqual([200, 400, 200, 400, 400, 400]);
    const text = lines.join('');
    expect(text.length).toBeGreaterThan(0);
    const issued = [results[0]!, results[2]!].map((r) => r.json().auth.client_token as string);
    for (const secret of [password, secret_id, jwt, jwt.split('.')[2]!, ...issued]) expect(text).not.toContain(secret);
  });
});
