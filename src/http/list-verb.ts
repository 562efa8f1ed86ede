import http from 'node:http';
import { Duplex } from 'node:stream';
import type { Socket } from 'node:net';
import { LIST_MARKER_HEADER } from './wire.js';

/**
 * Vault clients (curl -X LIST, hvac, node-vault) send the non-standard `LIST` method.
 * Node's HTTP/1.1 parser (llhttp) rejects unknown methods with its own 400 before any
 * handler runs, so the translation has to happen below it: every accepted socket is
 * wrapped in a stream that follows HTTP/1.1 message framing on the way in and rewrites
 * `LIST` request lines to `GET` plus a marker header the wire layer reads (`wire.ts`).
 *
 * The framer only needs to find where each request head starts: it reads a head up to
 * the blank line, then skips exactly the body that `Content-Length` or chunked
 * `Transfer-Encoding` announces, so pipelined requests and bodies that happen to
 * contain `LIST ` are handled correctly. Anything it does not understand (an upgrade,
 * a head longer than Node's own limit) switches it to pass-through, leaving the verdict to llhttp.
 */
const MARKER_LINE = new RegExp(`\\r\\n${LIST_MARKER_HEADER}:`, 'i');
const HEAD_END = Buffer.from('\r\n\r\n');

/**
 * What the framer tells about the requests it sees go by, for the listener's timeouts
 * (`connection-deadlines.ts`): where a request starts, where its head ends, where it ends.
 */
export interface MessageObserver {
  /** The first byte of a request head arrived. */
  headStarted(): void;
  /** The head is complete (its blank line arrived). */
  headComplete(): void;
  /** The request's body (if any) is complete; the next byte starts another request. */
  messageComplete(): void;
}

const NO_OBSERVER: MessageObserver = { headStarted() {}, headComplete() {}, messageComplete() {} };

export class RequestLineRewriter {
  /** The head read so far, as received (never copied until the head is complete). */
  private headParts: Buffer[] = [];
  private headLength = 0;
  /** The last (up to 3) bytes of the buffered head: a blank line may straddle two chunks. */
  private headTail = Buffer.alloc(0);
  private state: 'head' | 'body' | 'chunk-size' | 'chunk-data' | 'chunk-trailer' | 'passthrough' = 'head';
  private remaining = 0;
  private line = '';

  /**
   * The longest head the framer buffers: Node's own limit (`--max-http-header-size`, 16 KiB by
   * default). A longer one is passed through unframed for llhttp to refuse (431), so the
   * framer never holds more than Node would.
   */
  static readonly MAX_HEAD = http.maxHeaderSize;

  constructor(private readonly observer: MessageObserver = NO_OBSERVER) {}

  /**
   * Feeds bytes from the client; returns the bytes to hand to the HTTP parser. Linear in the
   * bytes fed, however they are split: a head arriving a byte at a time is searched only in
   * its new bytes (plus the three before them) and joined once, when complete.
   */
  push(chunk: Buffer): Buffer {
    const out: Buffer[] = [];
    let i = 0;
    while (i < chunk.length) {
      switch (this.state) {
        case 'passthrough':
          out.push(chunk.subarray(i));
          return Buffer.concat(out);
        case 'head': {
          if (this.headLength === 0) {
            this.observer.headStarted();
            // Common case: the whole head is in this chunk; no copying.
            const end = chunk.indexOf(HEAD_END, i);
            if (end !== -1 && end + 4 - i <= RequestLineRewriter.MAX_HEAD) {
              out.push(this.completeHead(chunk.subarray(i, end + 4)));
              i = end + 4;
              break;
            }
          }
          const rest = chunk.subarray(i);
          const window = this.headTail.length === 0 ? rest : Buffer.concat([this.headTail, rest]);
          const at = window.indexOf(HEAD_END);
          if (at === -1 || this.headLength + at + 4 - this.headTail.length > RequestLineRewriter.MAX_HEAD) {
            this.headParts.push(rest);
            this.headLength += rest.length;
            if (this.headLength > RequestLineRewriter.MAX_HEAD) {
              this.state = 'passthrough';
              out.push(...this.takeHead());
              return Buffer.concat(out);
            }
            this.headTail = Buffer.from(window.subarray(Math.max(0, window.length - 3)));
            return out.length === 1 ? out[0]! : Buffer.concat(out);
          }
          const fromChunk = at + 4 - this.headTail.length;
          this.headParts.push(rest.subarray(0, fromChunk));
          const head = Buffer.concat(this.takeHead());
          i += fromChunk;
          out.push(this.completeHead(head));
          break;
        }
        case 'body':
        case 'chunk-data': {
          // A body, or one chunk's data plus its CRLF: passed through as is.
          const take = Math.min(this.remaining, chunk.length - i);
          out.push(chunk.subarray(i, i + take));
          i += take;
          this.remaining -= take;
          if (this.remaining === 0) {
            if (this.state === 'body') this.endMessage();
            else this.state = 'chunk-size';
          }
          break;
        }
        case 'chunk-size':
        case 'chunk-trailer': {
          const nl = chunk.indexOf(0x0a, i);
          const stop = nl === -1 ? chunk.length : nl + 1;
          out.push(chunk.subarray(i, stop));
          this.line += chunk.subarray(i, stop).toString('latin1');
          i = stop;
          if (nl === -1) {
            if (this.line.length > 8192) this.state = 'passthrough';
            break;
          }
          const text = this.line.replace(/\r?\n$/, '');
          this.line = '';
          if (this.state === 'chunk-size') {
            const size = parseInt(text.split(';')[0]!.trim(), 16);
            if (!Number.isFinite(size) || size < 0) {
              this.state = 'passthrough';
            } else if (size === 0) {
              this.state = 'chunk-trailer';
            } else {
              this.remaining = size + 2; // data plus its CRLF
              this.state = 'chunk-data';
            }
          } else if (text === '') {
            this.endMessage();
          }
          break;
        }
      }
    }
    return out.length === 1 ? out[0]! : Buffer.concat(out);
  }

  /** The buffered head's parts, leaving nothing buffered. */
  private takeHead(): Buffer[] {
    const parts = this.headParts;
    this.headParts = [];
    this.headLength = 0;
    this.headTail = Buffer.alloc(0);
    return parts;
  }

  private endMessage(): void {
    this.state = 'head';
    this.observer.messageComplete();
  }

  /** A complete head: rewritten if it is a LIST, and the framing of its body decided. */
  private completeHead(head: Buffer): Buffer {
    this.observer.headComplete();
    const rewritten = this.rewriteHead(head);
    if (this.state === 'head') this.observer.messageComplete();
    return rewritten;
  }

  private rewriteHead(head: Buffer): Buffer {
    const text = head.toString('latin1');
    const lead = /^(\r\n)*/.exec(text)![0];
    const isList = text.startsWith('LIST ', lead.length);
    // Only the framing headers matter here; a regex over the head avoids splitting it for every request.
    const length = /\r\ncontent-length:[ \t]*([^\r]*)/i.exec(text);
    const contentLength = length ? Number(length[1]!.trim()) : 0;
    const chunked = /\r\ntransfer-encoding:[^\r]*\bchunked\b/i.test(text);
    const upgrade = /\r\nupgrade:/i.test(text);
    const marker = MARKER_LINE.test(text);
    if (upgrade || !Number.isSafeInteger(contentLength) || contentLength < 0) {
      this.state = 'passthrough';
    } else if (chunked) {
      this.state = 'chunk-size';
    } else if (contentLength > 0) {
      this.remaining = contentLength;
      this.state = 'body';
    } else {
      this.state = 'head';
    }
    if (!isList && !marker) return head;
    const lines = text.slice(lead.length).split('\r\n');
    // A client must not be able to smuggle the marker in itself.
    const kept = lines.filter((line, n) => n === 0 || !line.toLowerCase().startsWith(`${LIST_MARKER_HEADER}:`));
    if (isList) {
      kept[0] = `GET ${kept[0]!.slice(5)}`;
      kept.splice(1, 0, `${LIST_MARKER_HEADER}: 1`);
    }
    return Buffer.from(lead + kept.join('\r\n'), 'latin1');
  }
}

/**
 * Installs the LIST translation on a plain TCP socket without wrapping it: the bytes libuv
 * reads are rewritten in the socket's own `push` (where they enter its readable buffer), and
 * the socket is marked as already consumed so that Node's HTTP server reads it through
 * 'data' events rather than handing the handle to its native parser, which would see the
 * bytes first. Writes stay native. This relies on two Node internals — `Readable#push` being
 * how a net.Socket receives data, and the `_handle._consumed` flag the HTTP server checks —
 * so it is applied only when both are present; otherwise `ListVerbSocket` is the fallback.
 */
export function installListTranslation(socket: Socket, observer?: MessageObserver): boolean {
  const handle = (socket as Socket & { _handle?: { _consumed?: boolean; isStreamBase?: boolean } })._handle;
  if (!handle || handle.isStreamBase !== true || handle._consumed) return false;
  const rewriter = new RequestLineRewriter(observer);
  const push = socket.push.bind(socket);
  socket.push = (chunk: unknown, encoding?: BufferEncoding) =>
    chunk === null || !Buffer.isBuffer(chunk) ? push(chunk, encoding) : push(rewriter.push(chunk));
  handle._consumed = true;
  return true;
}

/**
 * A Duplex that stands in for the client socket in front of Node's HTTP server, passing
 * writes straight through and reads through a `RequestLineRewriter`. It forwards the
 * socket methods and properties the HTTP server and Fastify use.
 */
export class ListVerbSocket extends Duplex {
  private readonly rewriter: RequestLineRewriter;

  constructor(
    private readonly inner: Socket,
    observer?: MessageObserver,
  ) {
    super({ allowHalfOpen: true });
    this.rewriter = new RequestLineRewriter(observer);
    inner.on('data', (chunk: Buffer) => {
      const out = this.rewriter.push(chunk);
      if (out.length > 0 && !this.push(out)) inner.pause();
    });
    inner.on('end', () => this.push(null));
    inner.on('error', (err) => this.destroy(err));
    inner.on('close', () => {
      if (!this.destroyed) this.destroy();
    });
    inner.on('timeout', () => this.emit('timeout'));
    inner.on('drain', () => this.emit('drain'));
    inner.on('finish', () => this.emit('finish'));
    // The writable state the HTTP layer reads is the real socket's (writes bypass this Duplex).
    for (const name of ['writable', 'writableLength', 'writableHighWaterMark', 'writableNeedDrain', 'writableEnded', 'writableFinished'] as const) {
      Object.defineProperty(this, name, { get: () => inner[name], configurable: true });
    }
  }

  override _read(): void {
    this.inner.resume();
  }

  // Writes go straight to the real socket — its own corking turns a response's head and body
  // into one writev — rather than through this Duplex's writable buffering as well.
  override write(chunk: any, encoding?: any, cb?: any): boolean {
    return this.inner.write(chunk, encoding, cb);
  }
  override cork(): void {
    this.inner.cork();
  }
  override uncork(): void {
    this.inner.uncork();
  }
  override end(chunk?: any, encoding?: any, cb?: any): this {
    this.inner.end(chunk, encoding, cb);
    return this;
  }
  override _write(chunk: Buffer, encoding: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.inner.write(chunk, encoding, cb);
  }

  /**
   * Node's HTTP layer corks a response's head and body together; without `_writev` they
   * would leave as separate writes (two syscalls, two TCP segments) per response.
   */
  override _writev(chunks: Array<{ chunk: Buffer; encoding: BufferEncoding }>, cb: (err?: Error | null) => void): void {
    this.inner.write(chunks.length === 1 ? chunks[0]!.chunk : Buffer.concat(chunks.map((c) => c.chunk)), cb);
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.inner.end(cb);
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.inner.destroy(err ?? undefined);
    cb(err);
  }

  get remoteAddress(): string | undefined {
    return this.inner.remoteAddress;
  }
  get remotePort(): number | undefined {
    return this.inner.remotePort;
  }
  get remoteFamily(): string | undefined {
    return this.inner.remoteFamily;
  }
  get localAddress(): string | undefined {
    return this.inner.localAddress;
  }
  get localPort(): number | undefined {
    return this.inner.localPort;
  }
  get encrypted(): boolean {
    return (this.inner as Socket & { encrypted?: boolean }).encrypted === true;
  }
  get bytesWritten(): number {
    return this.inner.bytesWritten;
  }
  address(): ReturnType<Socket['address']> {
    return this.inner.address();
  }
  setTimeout(ms: number, cb?: () => void): this {
    this.inner.setTimeout(ms);
    if (cb) this.once('timeout', cb);
    return this;
  }
  setNoDelay(noDelay?: boolean): this {
    this.inner.setNoDelay(noDelay);
    return this;
  }
  setKeepAlive(enable?: boolean, delay?: number): this {
    this.inner.setKeepAlive(enable, delay);
    return this;
  }
  ref(): this {
    this.inner.ref();
    return this;
  }
  unref(): this {
    this.inner.unref();
    return this;
  }
}
