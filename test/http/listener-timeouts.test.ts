import http from 'node:http';
import net from 'node:net';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { ConnectionDeadlines, DEFAULT_LISTENER_TIMEOUTS } from '../../src/http/connection-deadlines.js';
import { RequestLineRewriter } from '../../src/http/list-verb.js';
import { startListeningServer } from '../support/app.js';
import { closeAfterTest } from '../support/fixtures.js';

/** A raw connection that records what it receives and when it is closed by the server. */
async function connect(port: number): Promise<{ socket: net.Socket; received: () => string; closed: Promise<void>; isClosed: () => boolean }> {
  const socket = net.connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('error', reject);
  });
  let text = '';
  let closed = false;
  socket.on('data', (chunk) => (text += chunk.toString('latin1')));
  socket.on('error', () => undefined);
  const done = new Promise<void>((resolve) => socket.once('close', () => ((closed = true), resolve())));
  onTestFinished(() => {
    socket.destroy();
  });
  return { socket, received: () => text, closed: done, isClosed: () => closed };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Writes `lines` one every `everyMs` until the connection closes; returns how many were written. */
async function drip(conn: Awaited<ReturnType<typeof connect>>, lines: string[], everyMs: number): Promise<number> {
  let sent = 0;
  for (const line of lines) {
    if (conn.isClosed()) break;
    conn.socket.write(line);
    sent++;
    await Promise.race([sleep(everyMs), conn.closed]);
  }
  return sent;
}

const HEALTH = 'GET /v1/sys/health HTTP/1.1\r\nHost: x\r\n\r\n';

describe('listener timeouts over real sockets', () => {
  it('cuts a client dripping one header line every 3 s at the default 10 s header timeout, without an answer', async () => {
    const s = closeAfterTest(await startListeningServer());
    const conn = await connect(s.listener.port);
    const lines = ['GET /v1/sys/health HTTP/1.1\r\n', ...Array.from({ length: 20 }, (_, i) => `X-Drip-${i}: ${i}\r\n`)];
    const sent = await drip(conn, lines, 3000);
    await conn.closed;
    // Lines went out at 0, 3, 6 and 9 s; the cut comes at 10 s, before the fifth at 12 s.
    expect(sent).toBe(4);
    expect(conn.received()).toBe('');
  }, 30_000);

  it.each(['native', 'inline', 'wrap'] as const)('honours a configured header timeout, and a request that completes its head in time is answered (%s LIST translation)', async (mode) => {
    const s = closeAfterTest(await startListeningServer({}, { listTranslation: mode, timeouts: { readHeaderMs: 1000 } }));
    const slow = await connect(s.listener.port);
    const lines = ['GET /v1/sys/health HTTP/1.1\r\n', ...Array.from({ length: 20 }, (_, i) => `X-Drip-${i}: ${i}\r\n`)];
    const sent = await drip(slow, lines, 300);
    expect(sent).toBeGreaterThanOrEqual(3);
    expect(sent).toBeLessThan(lines.length);
    expect(slow.received()).toBe('');
    // A connection that never sends a byte is cut too: the first request's clock starts at accept.
    const silent = await connect(s.listener.port);
    await silent.closed;
    expect(silent.received()).toBe('');
    const prompt = await connect(s.listener.port);
    prompt.socket.write(HEALTH);
    await vi.waitFor(() => expect(prompt.received()).toMatch(/^HTTP\/1\.1 200/));
  });

  it.each(['native', 'inline', 'wrap'] as const)('closes a kept-alive connection once it has been idle for the idle timeout, and not while it is in use (%s LIST translation)', async (mode) => {
    // Over 1 s: Node arms its idle timer 1 s past the value it is given (`native-first.ts`).
    const s = closeAfterTest(await startListeningServer({}, { listTranslation: mode, timeouts: { idleMs: 1500 } }));
    const busy = await connect(s.listener.port);
    const idle = await connect(s.listener.port);
    idle.socket.write(HEALTH);
    // The busy connection sends a request every 250 ms, for longer than the idle timeout.
    for (let i = 0; i < 10 && !idle.isClosed(); i++) {
      busy.socket.write(HEALTH);
      await sleep(250);
    }
    await idle.closed;
    expect(idle.received()).toMatch(/^HTTP\/1\.1 200/);
    expect(busy.isClosed()).toBe(false);
    expect(busy.received().match(/HTTP\/1\.1 200/g)?.length ?? 0).toBeGreaterThanOrEqual(4);
  });

  it('cuts a body that arrives slower than the read timeout allows', async () => {
    const s = closeAfterTest(await startListeningServer({}, { timeouts: { readMs: 1000 } }));
    const conn = await connect(s.listener.port);
    conn.socket.write(`PUT /v1/secret/data/slow HTTP/1.1\r\nHost: x\r\nX-Vault-Token: root\r\nContent-Length: 200\r\n\r\n{"data":{"v":"`);
    const sent = await drip(conn, Array.from({ length: 100 }, () => 'x'), 100);
    // Cut at 1 s (plus a sweep), not at the 10 s header timeout.
    expect(sent).toBeLessThan(20);
    expect(conn.received()).toBe('');
    // Nothing was stored from the cut request.
    const read = await fetch(`${s.listener.url}/v1/secret/data/slow`, { headers: { 'x-vault-token': 'root' } });
    expect(read.status).toBe(404);
  });
});

describe('max_connections', () => {
  it('closes connections beyond the cap as soon as they are accepted, and accepts again when one closes', async () => {
    const s = closeAfterTest(await startListeningServer({}, { maxConnections: 3 }));
    const open = await Promise.all([connect(s.listener.port), connect(s.listener.port), connect(s.listener.port)]);
    const refused = await connect(s.listener.port);
    refused.socket.write(HEALTH);
    await refused.closed;
    expect(refused.received()).toBe('');
    // The three open ones are served.
    open[0]!.socket.write(HEALTH);
    await vi.waitFor(() => expect(open[0]!.received()).toMatch(/^HTTP\/1\.1 200/));
    open[1]!.socket.destroy();
    await open[1]!.closed;
    await vi.waitFor(async () => {
      const again = await connect(s.listener.port);
      again.socket.write(HEALTH);
      await vi.waitFor(() => expect(again.received()).toMatch(/^HTTP\/1\.1 200/), { timeout: 500 });
    });
  });
});

describe('ConnectionDeadlines (Go net/http semantics)', () => {
  const start = (timeouts = DEFAULT_LISTENER_TIMEOUTS) => {
    let now = 1000;
    const d = new ConnectionDeadlines({ destroy() {} }, timeouts, () => now);
    return { d, at: (ms: number) => d.expired((now = 1000 + ms)) };
  };

  it('starts the first request\'s header and read clocks at accept', () => {
    const { at } = start();
    expect(at(9_999)).toBeUndefined();
    expect(at(10_000)).toBe('header');
  });

  it('stops the header clock at the end of the head and the read clock at the end of the body', () => {
    const { d, at } = start();
    at(5_000);
    d.headComplete();
    expect(at(29_999)).toBeUndefined();
    expect(at(30_000)).toBe('read');
    d.messageComplete();
    expect(at(1_000_000)).toBeUndefined();
  });

  it('runs the idle clock from the end of the response to the next request\'s first byte, then the header clock', () => {
    const { d, at } = start();
    d.headComplete();
    d.messageComplete();
    at(60_000);
    d.responseFinished();
    expect(at(60_000 + 299_999)).toBeUndefined();
    d.headStarted();
    expect(at(60_000 + 299_999 + 9_999)).toBeUndefined();
    expect(at(60_000 + 299_999 + 10_000)).toBe('header');
    const idle = start();
    idle.d.headComplete();
    idle.d.messageComplete();
    idle.d.responseFinished();
    expect(idle.at(300_000)).toBe('idle');
  });

  it('waits for every pipelined response before the idle clock starts; the write clock runs from head to response', () => {
    const { d, at } = start({ ...DEFAULT_LISTENER_TIMEOUTS, writeMs: 5_000 });
    d.headComplete();
    d.messageComplete();
    d.headStarted();
    d.headComplete();
    d.messageComplete();
    d.responseFinished();
    expect(at(4_999)).toBeUndefined();
    expect(at(5_000)).toBe('write');
    d.responseFinished();
    expect(at(5_000 + 299_999)).toBeUndefined();
  });
});

describe('LIST translation framing cost', () => {
  it('copies each byte of a head fed one byte at a time a bounded number of times (linear, not quadratic)', () => {
    const head = Buffer.from(`GET /v1/sys/health HTTP/1.1\r\nX: ${'a'.repeat(15_000)}\r\n\r\n`);
    const concat = vi.spyOn(Buffer, 'concat');
    try {
      const r = new RequestLineRewriter();
      const out: Buffer[] = [];
      for (let i = 0; i < head.length; i++) out.push(r.push(head.subarray(i, i + 1)));
      expect(Buffer.concat(out).toString('latin1')).toBe(head.toString('latin1'));
      const copied = concat.mock.calls.reduce((n, [list]) => n + list.reduce((m, b) => m + b.length, 0), 0);
      expect(copied).toBeLessThan(head.length * 8);
    } finally {
      concat.mockRestore();
    }
  });

  it('buffers no more of a head than Node\'s parser accepts: a longer one passes through for llhttp to refuse', async () => {
    expect(RequestLineRewriter.MAX_HEAD).toBe(http.maxHeaderSize);
    const r = new RequestLineRewriter();
    const over = Buffer.from(`LIST /v1/a HTTP/1.1\r\nX: ${'a'.repeat(RequestLineRewriter.MAX_HEAD)}`);
    // Fed in two parts: the first is held (a head may continue), the second takes it past the limit.
    expect(r.push(over.subarray(0, 100)).length).toBe(0);
    expect(r.push(over.subarray(100)).toString('latin1')).toBe(over.toString('latin1'));
    const s = closeAfterTest(await startListeningServer());
    const conn = await connect(s.listener.port);
    conn.socket.write(`GET /v1/sys/health HTTP/1.1\r\nHost: x\r\nX: ${'a'.repeat(RequestLineRewriter.MAX_HEAD)}\r\n\r\n`);
    await conn.closed;
    expect(conn.received()).toMatch(/^HTTP\/1\.1 431/);
  });
});
