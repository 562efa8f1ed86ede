import * as crypto from 'node:crypto';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { useTestServer } from '../support/fixtures.js';
import { approleRole, enableAuth, login, secretIdFor } from './helpers.js';

/**
 * Failed logins do the same work whether or not the user or role exists, so their timing does
 * not tell which names exist. Tests never compare wall-clock times: they count the expensive
 * operations (scrypt derivations, HMACs) a refused login performs.
 */
vi.mock('node:crypto', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:crypto')>();
  return { ...actual, scrypt: vi.fn(actual.scrypt), createHmac: vi.fn(actual.createHmac) };
});

const t = useTestServer();
const scryptCalls = () => vi.mocked(crypto.scrypt).mock.calls.length;
const hmacCalls = () => vi.mocked(crypto.createHmac).mock.calls.length;

/** What `run` costs in calls of `count`. */
async function cost(count: () => number, run: () => Promise<unknown>): Promise<number> {
  const before = count();
  await run();
  return count() - before;
}

describe('userpass', () => {
  beforeEach(async () => {
    await enableAuth(t, 'userpass');
    await t.call('POST', '/v1/auth/userpass/users/alice', { body: { password: 'right' } });
    // The first unknown-user login makes the dummy hash it checks against; later ones reuse it.
    await login(t, 'auth/userpass/login/warmup', { password: 'x' });
  });

  it('checks an unknown user’s password against a dummy hash: one scrypt derivation, as for a wrong password', async () => {
    const unknown = await cost(scryptCalls, () => login(t, 'auth/userpass/login/mallory', { password: 'guess' }));
    const wrong = await cost(scryptCalls, () => login(t, 'auth/userpass/login/alice', { password: 'guess' }));
    expect(unknown).toBe(1);
    expect(wrong).toBe(1);
  });
});

describe('approle', () => {
  it('HMACs the secret ID of an unknown role ID as it does for a known one', async () => {
    await enableAuth(t, 'approle');
    const roleId = await approleRole(t, 'ci');
    await secretIdFor(t, 'ci');
    const unknown = await cost(hmacCalls, () => login(t, 'auth/approle/login', { role_id: 'no-such-role', secret_id: 'guess' }));
    const wrong = await cost(hmacCalls, () => login(t, 'auth/approle/login', { role_id: roleId, secret_id: 'guess' }));
    expect(unknown).toBe(2);
    expect(wrong).toBe(2);
  });
});
