import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { startTestServer } from '../support/app.js';
import { closeAfterTest, tempDirForTest } from '../support/fixtures.js';

describe('persistent server', () => {
  it('keeps its mounts when stopped and started on the same file', async () => {
    const file = path.join(tempDirForTest('ferry-persist-'), 'ferry.db');
    const first = closeAfterTest(await startTestServer({ storagePath: file, dev: false }));
    const init = await first.call('PUT', '/v1/sys/init', { token: null, body: { secret_shares: 1, secret_threshold: 1 } });
    expect(init.statusCode).toBe(200);
    const { keys, root_token: root } = init.json();
    expect((await first.call('PUT', '/v1/sys/unseal', { token: null, body: { key: keys[0] } })).json().sealed).toBe(false);
    expect((await first.call('POST', '/v1/sys/mounts/team/kv', { token: root, body: { type: 'kv-v2', description: 'kept' } })).statusCode).toBe(204);
    await first.close();

    const t = closeAfterTest(await startTestServer({ storagePath: file, dev: false }));
    expect((await t.call('GET', '/v1/sys/mounts', { token: root })).statusCode).toBe(503);
    expect((await t.call('PUT', '/v1/sys/unseal', { token: null, body: { key: keys[0] } })).json().sealed).toBe(false);
    const mount = await t.call('GET', '/v1/sys/mounts/team/kv', { token: root });
    expect(mount.statusCode).toBe(200);
    expect(mount.json().data).toMatchObject({ type: 'kv', description: 'kept', options: { version: '2' } });
  });
});
