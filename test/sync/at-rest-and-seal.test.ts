import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { startTestServer } from '../support/app.js';
import { closeAfterTest, tempDirForTest } from '../support/fixtures.js';
import { emulatorDestination, TEST_ACCESS_KEY, useSyncServer } from '../support/sync.js';

const SECRET_KEY = 'AtRestSecretAccessKey/Zq9-unique-7731';

describe('destination credentials at rest', () => {
  it('keeps the secret_access_key out of the database file and its WAL in every encoding', async () => {
    const file = path.join(tempDirForTest('ferry-sync-db-'), 'ferry.db');
    const t = closeAfterTest(await startTestServer({ storagePath: file }));
    const res = await t.call('PUT', '/v1/sys/sync/destinations/aws-sm/prod', {
      body: { access_key_id: TEST_ACCESS_KEY, secret_access_key: SECRET_KEY, region: 'us-east-1' },
    });
    expect(res.statusCode).toBe(200);
    const bytes = Buffer.concat(
      ['', '-wal', '-shm'].map((suffix) => (fs.existsSync(file + suffix) ? fs.readFileSync(file + suffix) : Buffer.alloc(0))),
    );
    for (const needle of [SECRET_KEY, Buffer.from(SECRET_KEY).toString('base64'), Buffer.from(SECRET_KEY).toString('hex'), TEST_ACCESS_KEY]) {
      expect(bytes.includes(Buffer.from(needle)), needle).toBe(false);
    }
  });
});

describe('sealed server', () => {
  const t = useSyncServer();

  it('delivers nothing while sealed and resumes after unseal', async () => {
    await t.call('POST', '/v1/sys/mounts/my-kv', { body: { type: 'kv-v2' } });
    await t.call('PUT', '/v1/sys/sync/destinations/aws-sm/d', { body: emulatorDestination(t.emu, { secret_access_key: SECRET_KEY }) });
    await t.call('PUT', '/v1/my-kv/data/s', { body: { data: { v: '1' } } });
    await t.call('PUT', '/v1/sys/sync/destinations/aws-sm/d/associations/set', { body: { mount: 'my-kv', secret_name: 's' } });
    expect((await t.call('PUT', '/v1/sys/seal', { body: null })).statusCode).toBe(204);
    expect(await t.server.sync.worker.drainOnce()).toBe(0);
    expect(t.emu.listSecretNames('us-east-1')).toEqual([]);
    const unseal = await t.call('PUT', '/v1/sys/unseal', { token: null, body: { key: t.server.devUnsealKey } });
    expect(unseal.json().sealed).toBe(false);
    t.clock.advance(1000);
    await t.server.sync.worker.drainOnce();
    expect(t.emu.listSecretNames('us-east-1')).toHaveLength(1);
  });
});
