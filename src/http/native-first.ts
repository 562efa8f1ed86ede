import type http from 'node:http';
import type { Socket } from 'node:net';
import type { ListenerTimeouts } from './connection-deadlines.js';
import { RequestLineRewriter, type MessageObserver } from './list-verb.js';

/**
 * Connections on Node's native HTTP parser until they send `LIST`.
 *
 * The LIST translation (`list-verb.ts`) has to see every byte before llhttp does, which takes a
 * connection off Node's native parser: its bytes then reach the parser through JavaScript
 * (a Buffer, the stream machinery and a `data` event per read), which costs about 4 µs of the
 * ~30 µs a cached KV read costs. Most connections never send LIST (a KV read or write, a login,
 * an AWS-bound client), so each starts on the native parser, and Node's own HTTP timers enforce
 * the listener's timeouts on it. A connection's first LIST makes llhttp fail with an invalid
 * method — at the `S`: `LI` starts `LINK`, `LS` nothing — and that error, which carries the
 * chunk being parsed and where it stopped, hands the connection over: its unparsed bytes
 * (from the `LI`) go through a `RequestLineRewriter`, Node's parser is taken off the socket the
 * way Node takes it off for an upgrade, and once the responses to requests read before the LIST
 * are finished, the socket is handed to the HTTP server again as a new connection, read through
 * the framer and timed by the listener's deadline sweep for the rest of its life.
 *
 * This relies on Node internals, each checked before use (`nativeFirst` answers undefined, and
 * every connection is framed from its accept as before, when one is missing): the HTTP server's
 * `setupConnectionsTracking` 'listening' listener and `connectionsCheckingInterval` (Node's
 * header and request timers), the error's `rawPacket` and `bytesParsed`, and the parser's
 * `unconsume` and `remove`. The listeners Node puts on a connection are not known by name: they
 * are the ones that appear when the connection is handed to the HTTP server (`connect`).
 */

/** What a connection handed over needs from the listener: its deadlines, started now. */
export type TrackConnection = (socket: Socket) => MessageObserver;

/** The events Node's HTTP server listens to on a connection it parses natively ('error' excepted: it removes that one itself). */
const CONNECTION_EVENTS = ['data', 'end', 'close', 'drain', 'timeout', 'resume', 'pause'] as const;

interface NativeParser {
  _consumed?: boolean;
  unconsume(): void;
  remove?(): void;
  socket: unknown;
  incoming: unknown;
}

type ParseError = Error & { code?: string; rawPacket?: unknown; bytesParsed?: unknown };

/**
 * The bytes a connection still has to be read from, when `err` is llhttp refusing a LIST request
 * line: from its `LI` (which may have arrived in an earlier chunk; llhttp stops at the `S`).
 */
export function listRestOf(err: ParseError): Buffer | undefined {
  if (err.code !== 'HPE_INVALID_METHOD' || !Buffer.isBuffer(err.rawPacket) || typeof err.bytesParsed !== 'number') return undefined;
  const raw = err.rawPacket;
  const at = err.bytesParsed;
  if (at < 0 || at >= raw.length || raw[at] !== 0x53 /* S */) return undefined;
  if (at + 1 < raw.length && raw[at + 1] !== 0x54 /* T */) return undefined;
  // What of `LI` this chunk holds must be there; what it lacks arrived before (llhttp took it as a method prefix).
  const held = Math.min(2, at);
  if (raw.toString('latin1', at - held, at) !== 'LI'.slice(2 - held)) return undefined;
  return held === 2 ? raw.subarray(at - 2) : Buffer.concat([Buffer.from('LI'.slice(0, 2 - held), 'latin1'), raw.subarray(at - held)]);
}

export interface NativeFirst {
  /** Hands an accepted connection to the HTTP server, noting the listeners Node puts on it (to take them off at a hand-over). */
  connect(socket: Socket): void;
  /** Handles a client error of a natively parsed connection: true when it was handled (LIST handed over, timeout cut). */
  clientError(err: ParseError, socket: Socket): boolean;
  /** Stops Node's timer sweep (the listener closes). */
  stop(): void;
}

/**
 * Sets Node's own HTTP timers to the listener's timeouts and returns the hand-over, or undefined
 * when this listener cannot run connections natively (a write timeout, which Node has no timer
 * for; an idle timeout Node cannot express; a Node without the internals named above).
 */
export function nativeFirst(
  httpServer: http.Server,
  timeouts: ListenerTimeouts,
  sweepMs: number,
  track: TrackConnection,
  onTimeout: () => void,
): NativeFirst | undefined {
  const server = httpServer as http.Server & { connectionsCheckingInterval?: number; keepAliveTimeoutBuffer?: number };
  const setup = httpServer.listeners('listening').find((l) => l.name === 'setupConnectionsTracking');
  // Node arms a kept-alive connection's idle timer for keepAliveTimeout plus a buffer (1 s).
  const buffer = typeof server.keepAliveTimeoutBuffer === 'number' ? server.keepAliveTimeoutBuffer : 1000;
  if (!setup || typeof server.connectionsCheckingInterval !== 'number' || timeouts.writeMs > 0) return undefined;
  if (timeouts.idleMs > 0 && timeouts.idleMs <= buffer) return undefined;
  // As in Go's server, the read timeout bounds the head too; Node would instead swap the two
  // timers when the header one is the longer.
  server.headersTimeout = timeouts.readHeaderMs > 0 && timeouts.readMs > 0 ? Math.min(timeouts.readHeaderMs, timeouts.readMs) : timeouts.readHeaderMs;
  server.requestTimeout = timeouts.readMs;
  server.keepAliveTimeout = timeouts.idleMs > 0 ? timeouts.idleMs - buffer : 0;
  server.connectionsCheckingInterval = sweepMs;
  // What `listen()` would start: the sweep of the header and request timers (the listener never calls it).
  (setup as () => void).call(httpServer);

  /** Connections handed over: a later parse error of theirs is the framed parser's, answered as any other. */
  const handed = new WeakSet<Socket>();
  /** The listeners Node's HTTP server put on each natively parsed connection, by event. */
  const nodeListeners = new WeakMap<Socket, Array<[string, Array<(...args: unknown[]) => void>]>>();
  const handOver = (socket: Socket, rest: Buffer): boolean => {
    if (handed.has(socket)) return false;
    const parser = (socket as Socket & { parser?: NativeParser | null }).parser;
    const found = nodeListeners.get(socket);
    if (!parser || typeof parser.unconsume !== 'function' || !found?.some(([event, ls]) => event === 'data' && ls.length > 0)) return false;
    handed.add(socket);
    const deadlines = track(socket);
    const rewriter = new RequestLineRewriter(deadlines);
    const push = socket.push.bind(socket);
    // From now on every byte read goes through the framer; the rest of the refused chunk first.
    socket.push = (chunk: unknown, encoding?: BufferEncoding) =>
      chunk === null || !Buffer.isBuffer(chunk) ? push(chunk, encoding) : push(rewriter.push(chunk));
    // Reading stops (Node's own pause listener stops the handle) until the new parser reads on.
    socket.pause();
    // And nothing restarts it meanwhile: Node's drain listener resumes a connection it paused for
    // back-pressure (a large answer still being written), and the bytes would flow to the refused
    // parser's data listener — a 400 written into the answer, and the connection cut.
    const resume = socket.resume;
    socket.resume = () => socket;
    socket.push(rest);
    if (parser._consumed) parser.unconsume();
    parser._consumed = false;
    // Out of Node's timer sweep: the listener's deadlines time the connection now.
    parser.remove?.();
    const rehand = () => {
      // Responses to requests read before the LIST are written first, in order.
      const inFlight = (socket as Socket & { _httpMessage?: { once(event: 'close', cb: () => void): void } | null })._httpMessage;
      if (inFlight) return inFlight.once('close', () => setImmediate(rehand));
      if (socket.destroyed) return;
      socket.resume = resume;
      for (const [event, listeners] of found) for (const l of listeners) socket.removeListener(event, l);
      nodeListeners.delete(socket);
      (socket as Socket & { parser?: unknown }).parser = null;
      parser.socket = null;
      parser.incoming = null;
      // The idle timer Node armed after the last response: the deadline sweep has it now.
      socket.setTimeout(0);
      httpServer.emit('connection', socket);
      // Paused above, so the new parser's data listener did not start the flow: it starts now.
      socket.resume();
    };
    rehand();
    return true;
  };

  return {
    connect(socket) {
      const before = CONNECTION_EVENTS.map((event) => socket.listeners(event));
      httpServer.emit('connection', socket);
      nodeListeners.set(
        socket,
        CONNECTION_EVENTS.map((event, i) => [event, (socket.listeners(event) as Array<(...args: unknown[]) => void>).filter((l) => !before[i]!.includes(l))]),
      );
    },
    clientError(err, socket) {
      if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
        // As Go's server (and the deadline sweep) does: closed without an answer.
        onTimeout();
        socket.destroy();
        return true;
      }
      const rest = listRestOf(err);
      return rest !== undefined && handOver(socket, rest);
    },
    stop() {
      const interval = Object.getOwnPropertySymbols(httpServer).find((s) => s.description === 'http.server.connectionsCheckingInterval');
      if (interval) clearInterval((httpServer as unknown as Record<symbol, NodeJS.Timeout>)[interval]);
    },
  };
}
