import { execFileSync } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import { join } from 'node:path';
import tls from 'node:tls';
import { describe, expect, it, vi } from 'vitest';
import { RequestLineRewriter } from '../../src/http/list-verb.js';
import { DEFAULT_LISTENER_TIMEOUTS } from '../../src/http/connection-deadlines.js';
import { listRestOf, nativeFirst } from '../../src/http/native-first.js';
import { startListeningServer } from '../support/app.js';
import { closeAfterTest, tempDirForTest, useListeningServer } from '../support/fixtures.js';

/** Sends raw bytes on one connection and collects what comes back until `responses` responses arrived. */
async function rawExchange(port: number, payload: string | Buffer[], responses: number): Promise<string> {
  const socket = net.connect(port, '127.0.0.1');
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  let received = '';
  const done = new Promise<string>((resolve, reject) => {
    const check = () => {
      const statusLines = received.match(/HTTP\/1\.1 \d{3}/g) ?? [];
      // Each response here carries a Content-Length, so the end of the last body is detectable.
      if (statusLines.length >= responses && completeResponses(received) >= responses) resolve(received);
    };
    socket.on('data', (chunk) => {
      received += chunk.toString('utf8');
      check();
    });
    socket.on('error', reject);
    socket.on('close', () => resolve(received));
  });
  if (typeof payload === 'string') socket.write(payload);
  else for (const part of payload) socket.write(part);
  const out = await done;
  socket.destroy();
  return out;
}

function completeResponses(text: string): number {
  let count = 0;
  let rest = text;
  for (;;) {
    const headEnd = rest.indexOf('\r\n\r\n');
    if (headEnd === -1) return count;
    const head = rest.slice(0, headEnd);
    const len = /content-length: (\d+)/i.exec(head);
    const bodyLength = len ? Number(len[1]) : 0;
    if (rest.length < headEnd + 4 + bodyLength) return count;
    count++;
    rest = rest.slice(headEnd + 4 + bodyLength);
  }
}

function splitResponses(text: string): Array<{ status: number; body: string }> {
  const out: Array<{ status: number; body: string }> = [];
  let rest = text;
  while (rest.length > 0) {
    const headEnd = rest.indexOf('\r\n\r\n');
    if (headEnd === -1) break;
    const head = rest.slice(0, headEnd);
    const len = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? 0);
    out.push({ status: Number(head.slice(9, 12)), body: rest.slice(headEnd + 4, headEnd + 4 + len) });
    rest = rest.slice(headEnd + 4 + len);
  }
  return out;
}

const listReq = (path: string, extra = '') =>
  `LIST ${path} HTTP/1.1\r\nHost: x\r\nX-Vault-Token: root\r\n${extra}\r\n`;

describe.each(['native', 'inline', 'wrap'] as const)('LIST verb below the HTTP parser (%s translation)', (mode) => {
  const srv = useListeningServer({}, { listTranslation: mode });
  const exchange = (payload: string | Buffer[], responses: number) => rawExchange(srv.listener.port, payload, responses);

  it('answers a raw LIST request with a Vault response, not the parser 400', async () => {
    const out = await exchange(listReq('/v1/sys/policies-does-not-exist'), 1);
    const [res] = splitResponses(out);
    // An unknown sys path: Vault's 404, proving the request reached the router as a list.
    expect(res!.status).toBe(404);
    expect(JSON.parse(res!.body)).toEqual({ errors: ['unsupported path'] });
  });

  it('treats LIST as the list operation (405 on a path that only reads)', async () => {
    const out = await exchange(listReq('/v1/sys/mounts'), 1);
    const [res] = splitResponses(out);
    expect(res!.status).toBe(405);
    expect(JSON.parse(res!.body)).toEqual({ errors: ['unsupported operation'] });
  });

  it('answers a pipelined LIST and GET on one connection, in order', async () => {
    const out = await exchange(
      listReq('/v1/sys/mounts') + 'GET /v1/sys/health HTTP/1.1\r\nHost: x\r\n\r\n',
      2,
    );
    const [first, second] = splitResponses(out);
    expect(first!.status).toBe(405);
    expect(second!.status).toBe(200);
    expect(JSON.parse(second!.body)).toMatchObject({ initialized: true, sealed: false });
  });

  it('frames a LIST with Content-Length and a body, then serves the next request', async () => {
    const body = 'LIST /v1/sys/mounts HTTP/1.1\r\n\r\n'; // a body that looks like a request line
    const out = await exchange(
      listReq('/v1/sys/mounts', `Content-Length: ${body.length}\r\n`) + body + 'GET /v1/sys/leader HTTP/1.1\r\nHost: x\r\n\r\n',
      2,
    );
    const responses = splitResponses(out);
    expect(responses).toHaveLength(2);
    expect(responses[0]!.status).toBe(405);
    expect(responses[1]!.status).toBe(200);
    expect(JSON.parse(responses[1]!.body)).toMatchObject({ ha_enabled: false, active_time: '0001-01-01T00:00:00Z' });
  });

  it('frames a chunked body followed by a pipelined LIST', async () => {
    const out = await exchange(
      'POST /v1/sys/mounts/chunky HTTP/1.1\r\nHost: x\r\nX-Vault-Token: root\r\nTransfer-Encoding: chunked\r\n\r\n' +
        '10\r\n{"type":"kv-v2"}\r\n0\r\n\r\n' +
        listReq('/v1/sys/mounts'),
      2,
    );
    const responses = splitResponses(out);
    expect(responses.map((r) => r.status)).toEqual([204, 405]);
  });

  it('handles a LIST request delivered one byte at a time', async () => {
    const text = listReq('/v1/sys/mounts') + 'GET /v1/sys/health HTTP/1.1\r\nHost: x\r\n\r\n';
    const parts = [...Buffer.from(text)].map((b) => Buffer.from([b]));
    const out = await exchange(parts, 2);
    expect(splitResponses(out).map((r) => r.status)).toEqual([405, 200]);
  });

  it('serves a GET, a LIST and a GET in turn on one keep-alive connection', async () => {
    const socket = net.connect(srv.listener.port, '127.0.0.1');
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    let received = '';
    let closed = false;
    socket.on('data', (chunk) => (received += chunk.toString('utf8')));
    socket.on('close', () => (closed = true));
    const answered = async (count: number) => {
      while (completeResponses(received) < count && !closed) await new Promise((r) => setTimeout(r, 5));
    };
    socket.write('GET /v1/sys/health HTTP/1.1\r\nHost: x\r\n\r\n');
    await answered(1);
    socket.write(listReq('/v1/sys/mounts'));
    await answered(2);
    socket.write('GET /v1/sys/leader HTTP/1.1\r\nHost: x\r\n\r\n');
    await answered(3);
    socket.destroy();
    expect(splitResponses(received).map((r) => r.status)).toEqual([200, 405, 200]);
  });

  it('answers a GET pipelined before a LIST first', async () => {
    const out = await exchange('GET /v1/sys/health HTTP/1.1\r\nHost: x\r\n\r\n' + listReq('/v1/sys/mounts'), 2);
    const [first, second] = splitResponses(out);
    expect(first!.status).toBe(200);
    expect(JSON.parse(first!.body)).toMatchObject({ initialized: true });
    expect(second!.status).toBe(405);
  });

  it('answers KV reads pipelined around a LIST in order, each with its own secret', async () => {
    for (const [name, v] of [['a', '1'], ['b', '2']]) {
      const body = `{"data":{"v":"${v}"}}`;
      const written = await exchange(
        `POST /v1/secret/data/pipe/${name} HTTP/1.1\r\nHost: x\r\nX-Vault-Token: root\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
        1,
      );
      expect(splitResponses(written)[0]!.status).toBe(200);
    }
    // Node serves pipelined requests concurrently and answers them in order.
    const read = (name: string) => `GET /v1/secret/data/pipe/${name} HTTP/1.1\r\nHost: x\r\nX-Vault-Token: root\r\n\r\n`;
    const out = await exchange(read('a') + read('b') + listReq('/v1/secret/metadata/pipe/') + read('b') + read('a'), 5);
    const responses = splitResponses(out);
    expect(responses.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    expect(responses.map((r) => JSON.parse(r.body).data)).toEqual([
      expect.objectContaining({ data: { v: '1' } }),
      expect.objectContaining({ data: { v: '2' } }),
      { keys: ['a', 'b'] },
      expect.objectContaining({ data: { v: '2' } }),
      expect.objectContaining({ data: { v: '1' } }),
    ]);
  });

  it('answers a method it does not know, LIST-like or not, with the parser 400', async () => {
    for (const method of ['FOO', 'LISX']) {
      const out = await exchange(`${method} /v1/sys/health HTTP/1.1\r\nHost: x\r\n\r\n`, 1);
      expect(splitResponses(out)[0]!.status).toBe(400);
    }
  });

  it('does not let a client smuggle the internal LIST marker header on a GET', async () => {
    const out = await exchange(
      'GET /v1/sys/mounts HTTP/1.1\r\nHost: x\r\nX-Vault-Token: root\r\nX-Ferry-List-Verb: 1\r\n\r\n',
      1,
    );
    expect(splitResponses(out)[0]!.status).toBe(200);
  });
});

describe('RequestLineRewriter', () => {
  it('rewrites only request lines, never bodies', () => {
    const r = new RequestLineRewriter();
    const input = 'PUT /v1/a HTTP/1.1\r\nContent-Length: 8\r\n\r\nLIST /x ' + 'LIST /v1/b HTTP/1.1\r\n\r\n';
    const out = r.push(Buffer.from(input)).toString('latin1');
    expect(out).toBe(
      'PUT /v1/a HTTP/1.1\r\nContent-Length: 8\r\n\r\nLIST /x ' + 'GET /v1/b HTTP/1.1\r\nx-ferry-list-verb: 1\r\n\r\n',
    );
  });

  it('passes through when the head exceeds the limit, leaving the verdict to the parser', () => {
    const r = new RequestLineRewriter();
    const big = 'LIST /v1/a HTTP/1.1\r\nX: ' + 'a'.repeat(70 * 1024);
    const out = r.push(Buffer.from(big));
    expect(out.toString('latin1')).toBe(big);
  });
});

describe('native-first hand-over (src/http/native-first.ts)', () => {
  const parseError = (raw: string, bytesParsed: number) =>
    Object.assign(new Error('Parse Error: Invalid method encountered'), { code: 'HPE_INVALID_METHOD', rawPacket: Buffer.from(raw, 'latin1'), bytesParsed });

  it('finds where the refused LIST starts, however its first bytes were split over reads', () => {
    // llhttp stops at the S: `LI` could still start LINK.
    expect(listRestOf(parseError('LIST /v1/a HTTP/1.1\r\n\r\n', 2))?.toString('latin1')).toBe('LIST /v1/a HTTP/1.1\r\n\r\n');
    expect(listRestOf(parseError('GET /a HTTP/1.1\r\n\r\nLIST /b HTTP/1.1\r\n\r\n', 21))?.toString('latin1')).toBe('LIST /b HTTP/1.1\r\n\r\n');
    expect(listRestOf(parseError('IST /a HTTP/1.1\r\n\r\n', 1))?.toString('latin1')).toBe('LIST /a HTTP/1.1\r\n\r\n');
    expect(listRestOf(parseError('ST /a HTTP/1.1\r\n\r\n', 0))?.toString('latin1')).toBe('LIST /a HTTP/1.1\r\n\r\n');
    expect(listRestOf(parseError('S', 0))?.toString('latin1')).toBe('LIS');
  });

  it('takes no other parse error for a LIST', () => {
    expect(listRestOf(parseError('LISX /a HTTP/1.1\r\n\r\n', 2))).toBeUndefined();
    expect(listRestOf(parseError('LOST /a HTTP/1.1\r\n\r\n', 2))).toBeUndefined();
    expect(listRestOf(parseError('FOO /a HTTP/1.1\r\n\r\n', 0))).toBeUndefined();
    expect(listRestOf(Object.assign(parseError('LIST /a', 2), { code: 'HPE_HEADER_OVERFLOW' }))).toBeUndefined();
  });

  it('runs on this Node (the native tests above are not the inline fallback), and not with a write timeout', () => {
    const server = http.createServer();
    const native = nativeFirst(server, DEFAULT_LISTENER_TIMEOUTS, 100, () => new RequestLineRewriterObserver(), () => undefined);
    expect(native).toBeDefined();
    native!.stop();
    expect(nativeFirst(http.createServer(), { ...DEFAULT_LISTENER_TIMEOUTS, writeMs: 5000 }, 100, () => new RequestLineRewriterObserver(), () => undefined)).toBeUndefined();
  });
});

/** An observer that notes nothing (the hand-over's deadlines, for a unit test). */
class RequestLineRewriterObserver {
  headStarted(): void {}
  headComplete(): void {}
  messageComplete(): void {}
}

describe('LIST over TLS on a natively parsed connection', () => {
  it('answers a LIST pipelined behind a write on one TLS connection, after the write, with the written key', async () => {
    const dir = tempDirForTest('ferry-tls-list-');
    const cert = join(dir, 'c.crt');
    const key = join(dir, 'c.key');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
      '-subj', '/CN=ferry', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', key, '-out', cert], { stdio: 'ignore' });
    const s = closeAfterTest(await startListeningServer({}, { tlsDisable: false, tlsCertFile: cert, tlsKeyFile: key }));
    const socket = tls.connect({ host: '127.0.0.1', port: s.listener.port, rejectUnauthorized: false });
    await new Promise<void>((resolve, reject) => socket.once('secureConnect', resolve).once('error', reject));
    let received = '';
    socket.on('data', (chunk) => (received += chunk.toString('utf8')));
    const body = '{"data":{"v":"1"}}';
    socket.write(
      `PUT /v1/secret/data/tls/a HTTP/1.1\r\nHost: x\r\nX-Vault-Token: root\r\nContent-Length: ${body.length}\r\n\r\n${body}` +
        'LIST /v1/secret/metadata/tls HTTP/1.1\r\nHost: x\r\nX-Vault-Token: root\r\n\r\n',
    );
    await vi.waitFor(() => expect(splitResponses(received)).toHaveLength(2));
    socket.destroy();
    const [put, list] = splitResponses(received);
    expect(put!.status).toBe(200);
    expect(list!.status).toBe(200);
    expect(JSON.parse(list!.body).data).toEqual({ keys: ['a'] });
  });
});
