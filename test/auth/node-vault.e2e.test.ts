import vault from 'node-vault';
import { describe, expect, it } from 'vitest';
import { useListeningServer } from '../support/fixtures.js';

/**
 * AppRole and userpass end to end over a real socket with node-vault 0.12 (which has
 * `approleLogin` and `userpassLogin`; its `enableAuth` sends every argument, `mount_point`
 * included, as the body, and it reports only `errors[0]` of a refusal).
 */
const server = useListeningServer();
const admin = () => vault({ endpoint: server.listener.url, token: 'root' });

/** node-vault rejects anything but 200/204 with `errors[0]` as the message. */
async function refusal(p: Promise<unknown>): Promise<{ statusCode: number; message: string }> {
  const err = (await p.then(
    () => {
      throw new Error('expected a refusal');
    },
    (e: unknown) => e,
  )) as { message: string; response: { statusCode: number } };
  return { statusCode: err.response.statusCode, message: err.message };
}

describe('node-vault', () => {
  it('enables, lists and disables auth methods', async () => {
    const client = admin();
    await client.enableAuth({ mount_point: 'approle', type: 'approle', description: 'machines' });
    const auths = await client.auths();
    expect(auths.data['approle/']).toMatchObject({ type: 'approle', description: 'machines' });
    expect(auths['approle/']).toEqual(auths.data['approle/']);
    const clash = await refusal(client.enableAuth({ mount_point: 'approle', type: 'approle' }));
    expect(clash).toEqual({ statusCode: 409, message: 'path is already in use at approle/' });
    await client.disableAuth({ mount_point: 'approle' });
    expect(Object.keys((await client.auths()).data)).toEqual(['token/']);
  });

  it('logs in with AppRole until the secret ID’s uses are spent', async () => {
    const client = admin();
    await client.enableAuth({ mount_point: 'approle', type: 'approle' });
    await client.addApproleRole({ role_name: 'ci', policies: 'ci-read', secret_id_num_uses: 2, token_ttl: 600 });
    const roleId = (await client.getApproleRoleId({ role_name: 'ci' })).data.role_id as string;
    const secret = (await client.getApproleRoleSecret({ role_name: 'ci', metadata: JSON.stringify({ job: '42' }) })).data;
    expect((await client.approleSecretAccessors({ role_name: 'ci' })).data.keys).toEqual([secret.secret_id_accessor]);

    const app = vault({ endpoint: server.listener.url });
    const first = await app.approleLogin({ role_id: roleId, secret_id: secret.secret_id });
    expect(first.auth).toMatchObject({ policies: ['ci-read', 'default'], metadata: { job: '42', role_name: 'ci' }, lease_duration: 600, orphan: true });
    // approleLogin keeps the token it got: the client is now authenticated.
    expect(app.token).toBe(first.auth.client_token);
    expect((await app.tokenLookupSelf()).data.display_name).toBe('approle');

    await vault({ endpoint: server.listener.url }).approleLogin({ role_id: roleId, secret_id: secret.secret_id });
    const spent = await refusal(vault({ endpoint: server.listener.url }).approleLogin({ role_id: roleId, secret_id: secret.secret_id }));
    expect(spent).toEqual({ statusCode: 400, message: 'invalid role or secret ID' });
    const unknown = await refusal(vault({ endpoint: server.listener.url }).approleLogin({ role_id: 'nope', secret_id: 'nope' }));
    expect(unknown).toEqual({ statusCode: 400, message: 'invalid role or secret ID' });
  });

  it('logs in with userpass; a wrong password is refused', async () => {
    const client = admin();
    await client.enableAuth({ mount_point: 'userpass', type: 'userpass' });
    await client.write('auth/userpass/users/alice', { password: 'correct horse', token_policies: 'admins' });
    const user = vault({ endpoint: server.listener.url });
    const res = await user.userpassLogin({ username: 'alice', password: 'correct horse' });
    expect(res.auth).toMatchObject({ policies: ['admins', 'default'], metadata: { username: 'alice' }, renewable: true });
    expect(user.token).toBe(res.auth.client_token);
    const wrong = await refusal(vault({ endpoint: server.listener.url }).userpassLogin({ username: 'alice', password: 'nope' }));
    expect(wrong).toEqual({ statusCode: 400, message: 'invalid username or password' });
  });
});
