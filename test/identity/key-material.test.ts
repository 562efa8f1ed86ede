import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createServer } from '../../src/compose.js';
import { createSecretsSyncTokenSigner } from '../../src/identity/index.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import { startTestServer } from '../support/app.js';
import { closeAfterTest, tempDirForTest } from '../support/fixtures.js';
import { WELL_KNOWN, privateMembers } from './helpers.js';

/** Every file SQLite wrote for the database (main file, WAL, shared memory), concatenated. */
function rawDatabaseBytes(dir: string): Buffer {
  return Buffer.concat(readdirSync(dir).map((f) => readFileSync(join(dir, f))));
}

/** Whether a secret shows in clear: as the base64url text a JWK holds, or as its raw bytes. */
const inClear = (raw: Buffer, secret: string) => raw.includes(secret) || raw.includes(Buffer.from(secret, 'base64url'));

describe('private signing keys', () => {
  it('never appear in any response of the identity endpoints', async () => {
    const t = closeAfterTest(await startTestServer({ apiAddr: 'https://ferry.example.com' }));
    const bodies: string[] = [];
    const call = async (method: string, path: string, body?: unknown) => {
      const res = await t.call(method, path, { body });
      expect(res.statusCode).toBeLessThan(300);
      bodies.push(res.body, JSON.stringify(res.headers));
    };
    await call('POST', '/v1/identity/oidc/key/ec', { algorithm: 'ES256' });
    await call('GET', '/v1/identity/oidc/key/ec');
    await call('GET', '/v1/identity/oidc/key/default');
    await call('GET', '/v1/identity/oidc/key?list=true');
    await call('POST', '/v1/identity/oidc/key/default/rotate');
    await call('GET', '/v1/identity/oidc/config');
    await call('GET', `${WELL_KNOWN}/openid-configuration`);
    await call('GET', `${WELL_KNOWN}/keys`);
    await call('GET', '/v1/sys/internal/specs/openapi');
    const minted = await createSecretsSyncTokenSigner(t.server.core).mint({
      destinationType: 'aws-sm',
      destinationName: 'd',
      audience: 'a',
    });
    bodies.push(minted.token, Buffer.from(minted.token.split('.')[1]!, 'base64url').toString());

    const secrets = [...(await privateMembers(t.server.core, 'default')), ...(await privateMembers(t.server.core, 'ec'))];
    expect(secrets.length).toBe(6 * 2 + 2); // RSA: d p q dp dq qi, current and next; EC: d, current and next
    for (const body of bodies) for (const secret of secrets) expect(body.includes(secret)).toBe(false);
  });

  it('the raw-file check sees a private value written in clear (self-check of the next test)', async () => {
    const dir = tempDirForTest('ferry-identity-');
    const store = closeAfterTest(new SqliteStore({ path: join(dir, 'plain.db') }));
    await store.commit([{ kind: 'put', key: 'k', value: Buffer.from(JSON.stringify({ d: 'c2VjcmV0LXByaXZhdGUtZXhwb25lbnQtdmFsdWU' })) }]);
    expect(inClear(rawDatabaseBytes(dir), 'c2VjcmV0LXByaXZhdGUtZXhwb25lbnQtdmFsdWU')).toBe(true);
  });

  it('are not in the SQLite file in clear: the store holds them only behind the barrier', async () => {
    const dir = tempDirForTest('ferry-identity-');
    const server = closeAfterTest(await createServer({ storagePath: join(dir, 'ferry.db'), dev: true, apiAddr: 'https://ferry.example.com' }));
    expect(server.core.store).not.toBeInstanceOf(SqliteStore);
    await createSecretsSyncTokenSigner(server.core).mint({ destinationType: 'aws-sm', destinationName: 'd', audience: 'a' });
    const secrets = await privateMembers(server.core, 'default');
    expect(secrets.length).toBe(12);

    // While the server runs (WAL not yet checkpointed) and after it closed.
    for (const secret of secrets) expect(inClear(rawDatabaseBytes(dir), secret)).toBe(false);
    await server.close();
    for (const secret of secrets) expect(inClear(rawDatabaseBytes(dir), secret)).toBe(false);
  });
});
