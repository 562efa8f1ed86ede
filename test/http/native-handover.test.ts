import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { useListeningServer } from '../support/fixtures.js';
import { waitUntil } from '../support/process.js';

/** Complete responses in `bytes` (each with a Content-Length), with their status and body. */
function responses(bytes: Buffer): Array<{ status: number; body: string }> {
  const out: Array<{ status: number; body: string }> = [];
  let at = 0;
  for (;;) {
    const headEnd = bytes.indexOf('\r\n\r\n', at);
    if (headEnd === -1) return out;
    const head = bytes.toString('latin1', at, headEnd);
    const length = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? 0);
    if (bytes.length < headEnd + 4 + length) return out;
    out.push({ status: Number(head.slice(9, 12)), body: bytes.toString('utf8', headEnd + 4, headEnd + 4 + length) });
    at = headEnd + 4 + length;
  }
}

describe.each(['native', 'inline'] as const)('native-first hand-over under back-pressure (src/http/native-first.ts), %s translation', (mode) => {
  const srv = useListeningServer({}, { listTranslation: mode });

  it('answers a LIST pipelined while an earlier large answer is still being written, and the request after it', async () => {
    // An answer larger than the loopback socket buffers: Node's HTTP server pauses the
    // connection (its own back-pressure) while the client does not read it.
    const big: Record<string, string> = {};
    for (let i = 0; i < 8; i++) big[`v${i}`] = 'x'.repeat(1000 * 1000);
    const put = await fetch(`${srv.listener.url}/v1/secret/data/big`, {
      method: 'POST',
      headers: { 'x-vault-token': 'root', 'content-type': 'application/json' },
      body: JSON.stringify({ data: big }),
    });
    expect(put.status, await put.clone().text()).toBe(200);

    const socket = net.connect(srv.listener.port, '127.0.0.1');
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    const chunks: Buffer[] = [];
    let closed = false;
    socket.on('close', () => (closed = true));
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.pause();
    socket.write('GET /v1/secret/data/big HTTP/1.1\r\nHost: x\r\nX-Vault-Token: root\r\n\r\n');
    await new Promise((r) => setTimeout(r, 500));
    socket.write(
      'GET /v1/sys/health HTTP/1.1\r\nHost: x\r\n\r\n' +
        'LIST /v1/secret/metadata/ HTTP/1.1\r\nHost: x\r\nX-Vault-Token: root\r\n\r\n' +
        'GET /v1/sys/leader HTTP/1.1\r\nHost: x\r\n\r\n',
    );
    await new Promise((r) => setTimeout(r, 300));
    socket.resume();
    await waitUntil('four answers or the connection closed', () => closed || responses(Buffer.concat(chunks)).length >= 4, { timeoutMs: 10_000 });
    socket.destroy();
    const got = responses(Buffer.concat(chunks));
    expect(got.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    expect(JSON.parse(got[2]!.body).data).toEqual({ keys: ['big'] });
  }, 30_000);
});

/** What comes back on one connection for `payload`, until the server closes it (or 2 s pass). */
async function exchangeUntilClosed(port: number, payload: string): Promise<Buffer> {
  const socket = net.connect(port, '127.0.0.1');
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  socket.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.write(payload);
  await Promise.race([closed, new Promise((r) => setTimeout(r, 2000))]);
  socket.destroy();
  return Buffer.concat(chunks);
}

describe.each(['native', 'inline', 'wrap'] as const)('a refused request pipelined behind good ones (%s translation)', (mode) => {
  const srv = useListeningServer({}, { listTranslation: mode });

  it('answers the requests read before it first, then the 400 (as Go does), and nothing after', async () => {
    const health = 'GET /v1/sys/health HTTP/1.1\r\nHost: x\r\n\r\n';
    const got = responses(await exchangeUntilClosed(srv.listener.port, health + health + 'FOO /v1/sys/health HTTP/1.1\r\nHost: x\r\n\r\n' + health));
    expect(got.map((r) => r.status)).toEqual([200, 200, 400]);
    expect(JSON.parse(got[0]!.body)).toMatchObject({ initialized: true });
  });

  it('answers a request that closes the connection, and ignores what a client pipelines after it (HTTP/1.0, Connection: close)', async () => {
    const list = 'LIST /v1/secret/metadata/ HTTP/1.1\r\nHost: x\r\nX-Vault-Token: root\r\n\r\n';
    for (const closing of ['GET /v1/sys/health HTTP/1.0\r\n\r\n', 'GET /v1/sys/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n']) {
      const got = responses(await exchangeUntilClosed(srv.listener.port, closing + list));
      expect(got.map((r) => r.status)).toEqual([200]);
    }
  });
});
