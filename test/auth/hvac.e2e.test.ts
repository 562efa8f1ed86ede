import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { closeAfterTest, useListeningServer } from '../support/fixtures.js';
import { foreignKey, startTestIssuer, unsignedToken } from '../support/oidc-issuer.js';

/**
 * AppRole, userpass and JWT end to end over a real socket with hvac, Debian's python3-hvac
 * 0.11 (the script, `hvac_flows.py`, is what a Python pipeline runs). When no Python has hvac
 * (`apt-get install -y python3-hvac`; `.ci/run` installs it in CI) the test is skipped, saying so.
 */
const SCRIPT = fileURLToPath(new URL('./hvac_flows.py', import.meta.url));

/** The first Python with hvac importable: the one on PATH (a pyenv, perhaps) or Debian's. */
function pythonWithHvac(): string | undefined {
  for (const python of ['python3', '/usr/bin/python3']) {
    if (spawnSync(python, ['-c', 'import hvac'], { stdio: 'ignore' }).status === 0) return python;
  }
  return undefined;
}

/** Runs the script without blocking: the server under test answers it from this process. */
function runScript(python: string, input: string, addr: string): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(python, [SCRIPT], { env: { ...process.env, VAULT_ADDR: addr, VAULT_TOKEN: 'root' }, timeout: 120_000 });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
    child.stdin.end(input);
  });
}

const python = pythonWithHvac();
const server = python ? useListeningServer() : undefined;

describe.skipIf(!python)('hvac (python3-hvac 0.11) over a real socket', () => {
  it('runs the AppRole, userpass and JWT flows with the results Vault gives', async () => {
    const issuer = closeAfterTest(await startTestIssuer());
    const good = await issuer.token();
    const claims = JSON.parse(Buffer.from(good.split('.')[1]!, 'base64url').toString());
    const now = Math.floor(Date.now() / 1000);
    const jwts = {
      good,
      other_repository: await issuer.token({ repository: 'org/other' }),
      expired: await issuer.token({ iat: now - 3600, nbf: now - 3600, exp: now - 3000 }),
      wrong_audience: await issuer.token({ aud: 'sigstore' }),
      wrong_signature: await issuer.token({}, { key: await foreignKey() }),
      alg_none: unsignedToken(claims),
    };
    const run = await runScript(python!, JSON.stringify({ issuer: issuer.url, jwts }), server!.listener.url);
    expect(run.status, run.stderr).toBe(0);
    const r = JSON.parse(run.stdout);

    expect([r.enable_approle, r.enable_userpass, r.enable_jwt]).toEqual([{ ok: 204 }, { ok: 204 }, { ok: 204 }]);
    expect(r.enable_again).toEqual({ error: 'UnexpectedError', errors: ['path is already in use at approle/'] });
    // hvac users read the methods from `data` or, in older code, from the top level.
    expect(r.list.ok.data['approle/']).toMatchObject({ type: 'approle', description: 'machines' });
    expect(r.list.ok['approle/']).toEqual(r.list.ok.data['approle/']);
    expect(r.tuning.ok.data).toMatchObject({ default_lease_ttl: 1800, max_lease_ttl: 2764800, token_type: 'default-service' });

    expect(r.create_role).toEqual({ ok: 204 });
    expect(r.read_role.ok).toMatchObject({ token_policies: ['ci', 'deploy'], token_ttl: 1200, secret_id_num_uses: 2, secret_id_bound_cidrs: ['127.0.0.0/8'] });
    expect(r.secret.ok).toEqual({ secret_id: 'str', secret_id_accessor: 'str', secret_id_ttl: 'int', secret_id_num_uses: 'int' });
    expect(r.accessors).toEqual({ ok: true });
    expect(r.lookup).toEqual({ ok: { job: '42' } });
    expect(r.approle_login_1.ok).toMatchObject({ authenticated: true, token_set: true });
    expect(r.approle_login_1.ok.auth).toMatchObject({ policies: ['ci', 'default', 'deploy'], metadata: { job: '42', role_name: 'ci' }, lease_duration: 1200 });
    expect(r.approle_login_2.ok.authenticated).toBe(true);
    expect(r.approle_login_3).toEqual({ error: 'InvalidRequest', errors: ['invalid role or secret ID'] });
    expect(r.approle_unknown).toEqual({ error: 'InvalidRequest', errors: ['invalid role or secret ID'] });
    expect(r.approle_no_secret).toEqual({ error: 'InvalidRequest', errors: ['missing secret_id'] });

    expect(r.create_user).toEqual({ ok: 204 });
    expect(r.userpass_login.ok).toMatchObject({ authenticated: true, auth: { policies: ['admins', 'default'], metadata: { username: 'alice' } } });
    expect(r.userpass_wrong).toEqual({ error: 'InvalidRequest', errors: ['invalid username or password'] });

    expect(r.jwt_config).toEqual({ ok: 204 });
    // hvac sends the role's name in the body too; like Vault, Ferry ignores it and says so.
    expect(r.jwt_role).toEqual({ ok: { warnings: ['Endpoint ignored these unrecognized parameters: [name]'] } });
    expect(r.jwt_read_role).toEqual({ ok: { repository: 'org/name' } });
    expect(r.jwt_good.ok).toMatchObject({ policies: ['ci', 'default'], metadata: { role: 'ci', repository: 'org/name' }, lease_duration: 900 });
    expect(r.jwt_other_repository).toEqual({
      error: 'InvalidRequest',
      errors: ['error validating claims: claim "repository" does not match any associated bound claim values'],
    });
    expect(r.jwt_expired).toEqual({ error: 'InvalidRequest', errors: ['error validating token: invalid expiration time (exp) claim: token is expired'] });
    expect(r.jwt_wrong_audience).toEqual({
      error: 'InvalidRequest',
      errors: ['error validating token: invalid audience (aud) claim: audience claim does not match any expected audience'],
    });
    expect(r.jwt_wrong_signature).toEqual({
      error: 'InvalidRequest',
      errors: ['error validating token: error verifying token signature: failed to verify id token signature'],
    });
    expect(r.jwt_alg_none).toEqual({ error: 'InvalidRequest', errors: ['error validating token: error verifying token signature: token is not signed'] });

    expect(r.disable_approle).toEqual({ ok: 204 });
    expect(r.approle_after_disable).toEqual({ ok: false });
  });
});

if (!python) {
  describe('hvac (python3-hvac 0.11) over a real socket', () => {
    it.skip('is skipped: no Python here can import hvac (install it with `apt-get install -y python3-hvac`)', () => {});
  });
}
