import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logging.js';
import { startListeningServer } from '../support/app.js';
import { startAwsEmulator } from '../support/aws-emulator/index.js';
import { closeAfterTest } from '../support/fixtures.js';
import { TEST_ACCESS_KEY, TEST_SECRET_KEY } from '../support/sync.js';

describe('sync log hygiene', () => {
  it('logs no secret value, credential, session token or identity token while syncing and failing', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _e, cb) {
        lines.push(chunk.toString());
        cb();
      },
    });
    const emu = closeAfterTest(await startAwsEmulator());
    const srv = closeAfterTest(await startListeningServer({ logger: createLogger('trace', sink as any), syncWorker: { start: false } }));
    const url = srv.listener.url;
    srv.server.core.info.apiAddr = url;
    const call = (method: string, path: string, body?: unknown) =>
      fetch(`${url}/v1/${path}`, { method, headers: { 'X-Vault-Token': 'root' }, body: body === undefined ? undefined : JSON.stringify(body) });
    const marker = 'SYNC-VALUE-MARKER-4471';
    const issuer = `${url}/v1/identity/oidc/secrets-sync`;
    emu.registerOidcProvider({ url: issuer, clientIds: ['aud'] });
    const role = emu.registerRole({ roleName: 'r', trust: { provider: issuer.replace('http://', ''), sub: 'secrets-sync:root:aws-sm:wif', aud: 'aud' } }).arn;
    await call('POST', 'sys/mounts/kv', { type: 'kv-v2' });
    // One secret per destination: two destinations of one account and region cannot sync one AWS name.
    for (const d of ['static', 'wif', 'broken']) await call('PUT', `kv/data/${d}`, { data: { password: marker } });
    await call('PUT', 'sys/sync/destinations/aws-sm/static', { access_key_id: TEST_ACCESS_KEY, secret_access_key: TEST_SECRET_KEY, region: 'us-east-1', endpoint_url: emu.endpoint });
    await call('PUT', 'sys/sync/destinations/aws-sm/wif', { role_arn: role, identity_token_audience: 'aud', region: 'us-east-1', endpoint_url: emu.endpoint });
    await call('PUT', 'sys/sync/destinations/aws-sm/broken', { access_key_id: 'not-a-key', secret_access_key: TEST_SECRET_KEY, region: 'us-east-1', endpoint_url: emu.endpoint });
    for (const d of ['static', 'wif', 'broken']) await call('PUT', `sys/sync/destinations/aws-sm/${d}/associations/set`, { mount: 'kv', secret_name: d });
    emu.injectFault({ kind: '500', count: 1 });
    for (let i = 0; i < 5; i++) await srv.server.sync.worker.drainOnce();
    const text = lines.join('');
    const sessions = emu.requestLog().filter((e) => e.accessKeyId?.startsWith('ASIA')).map((e) => e.accessKeyId!);
    expect(sessions.length).toBeGreaterThan(0);
    expect(text).toContain('sync delivery failed');
    expect(text).toContain('"status":"SYNCED"');
    expect(text).not.toContain(marker);
    expect(text).not.toContain(TEST_SECRET_KEY);
    expect(text).not.toContain(TEST_ACCESS_KEY);
    for (const s of sessions) expect(text).not.toContain(s);
    expect(text).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\./);
  });
});
