import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logging.js';
import { startTestServer } from '../support/app.js';
import { closeAfterTest } from '../support/fixtures.js';

/** Captures every log line the server writes, at the most verbose level. */
function captureLogs() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      lines.push(chunk.toString());
      cb();
    },
  });
  return { logger: createLogger('trace', stream as any), text: () => lines.join('') };
}

describe('log hygiene', () => {
  it('never writes a token or a secret value to a log line', async () => {
    const logs = captureLogs();
    const marker = 'S3CR3T-MARKER-7f3a9c';
    const t = closeAfterTest(await startTestServer({ logger: logs.logger, devRootTokenId: 'hvs.root-token-under-test' }));
    const token = 'hvs.root-token-under-test';
    await t.call('POST', '/v1/sys/mounts/app', { token, body: { type: 'kv-v2', description: marker } });
    await t.call('PUT', '/v1/app/data/db', { token, body: { data: { password: marker } } });
    await t.call('GET', `/v1/app/data/db?marker=${marker}`, { token });
    await t.call('POST', '/v1/auth/token/lookup', { token, body: { token: marker } });
    await t.call('GET', '/v1/sys/mounts', { token: `${marker}-as-token` });
    await t.call('POST', '/v1/sys/mounts/bad', { token, rawBody: `{"type": "${marker}` });
    await t.call('GET', '/v1/auth/token/lookup-self', { token: null, headers: { authorization: `Bearer ${token}` } });
    const text = logs.text();
    expect(text.length).toBeGreaterThan(0);
    expect(text).not.toContain(marker);
    expect(text).not.toContain(token);
    expect(text).not.toContain(Buffer.from(marker).toString('base64'));
  });
});
