import path from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logging.js';
import { closeAfterTest, tempDirForTest } from '../support/fixtures.js';
import { initAndUnseal, leaks, startPersistent } from './support.js';

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      lines.push(chunk.toString());
      cb();
    },
  });
  return { logger: createLogger('trace', stream as any), text: () => lines.join(''), lines };
}


describe('log redaction', () => {
  it('censors tokens, unseal keys, credentials and secret values at any of the first three levels', () => {
    const logs = capture();
    logs.logger.info(
      {
        token: 't1',
        root_token: 't2',
        keys: ['k1'],
        keys_base64: ['k2'],
        req: { headers: { 'x-vault-token': 't3', authorization: 'Bearer t4' }, raw: { password: 'p1' } },
        destination: { credentials: { secret_access_key: 's1', session_token: 's2' }, access_key_id: 'a1' },
        deep: { auth: { client_token: 't5' } },
        path: 'secret/data/app',
      },
      'message',
    );
    const entry = JSON.parse(logs.lines[0]!);
    expect(entry).toMatchObject({
      token: '[redacted]',
      root_token: '[redacted]',
      keys: '[redacted]',
      keys_base64: '[redacted]',
      req: { headers: { 'x-vault-token': '[redacted]', authorization: '[redacted]' }, raw: '[redacted]' },
      destination: { credentials: '[redacted]', access_key_id: '[redacted]' },
      deep: { auth: { client_token: '[redacted]' } },
      path: 'secret/data/app',
      msg: 'message',
    });
  });

  it('writes no unseal share, root token or secret to the log during init, unseal, token create and a KV write', async () => {
    const logs = capture();
    const t = closeAfterTest(await startPersistent(path.join(tempDirForTest(), 'ferry.db'), { logger: logs.logger }));
    const init = await initAndUnseal(t, 3, 2);
    const marker = 'LOG-MARKER-0b6a1f';
    await t.call('POST', '/v1/sys/mounts/kv', { token: init.root_token, body: { type: 'kv-v2' } });
    await t.call('PUT', '/v1/kv/data/x', { token: init.root_token, body: { data: { v: marker } } });
    const child = (await t.call('POST', '/v1/auth/token/create', { token: init.root_token, body: {} })).json().auth.client_token;
    await t.call('PUT', '/v1/sys/unseal', { token: null, body: { key: init.keys[0] } });
    await t.call('PUT', '/v1/sys/seal', { token: init.root_token });
    await t.call('PUT', '/v1/sys/unseal', { token: null, body: { key: 'ff'.repeat(33) } });
    const text = Buffer.from(logs.text());
    expect(text.length).toBeGreaterThan(0);
    for (const s of [marker, init.root_token, child, ...init.keys, ...init.keys_base64]) expect(leaks(text, s), s).toEqual([]);
  });
});
