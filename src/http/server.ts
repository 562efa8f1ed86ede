import net from 'node:net';
import tls from 'node:tls';
import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { DEFAULT_LISTENER_TIMEOUTS, DeadlineSweeper, type ConnectionDeadlines, type ListenerTimeouts } from './connection-deadlines.js';
import { ListVerbSocket, installListTranslation } from './list-verb.js';
import { nativeFirst } from './native-first.js';
import { LIST_MARKER_HEADER } from './wire.js';

/**
 * Default of `max_connections` (Ferry's own listener key; Vault has none): open connections
 * beyond it are closed as soon as they are accepted. Well under the common 1,024 open-files
 * limit, so that file descriptors stay available for the database, the audit log and the
 * connections to AWS when a client opens connections and keeps them; nginx's default
 * `worker_connections` is the same figure.
 */
export const DEFAULT_MAX_CONNECTIONS = 512;

export interface ListenerOptions {
  address: string;
  tlsDisable: boolean;
  tlsCertFile?: string;
  tlsKeyFile?: string;
  /** Node's names (`TLSv1.2`); Node's defaults when unset. */
  tlsMinVersion?: string;
  tlsMaxVersion?: string;
  /** TLS options that replace the certificate pair: the cluster listener's pre-shared key (`forward.ts`). */
  tlsOptions?: tls.TlsOptions;
  /**
   * How LIST is translated: `native` (the default) keeps each connection on Node's native
   * parser, with Node's own timers, until it sends LIST, and then translates it `inline`
   * (`native-first.ts`; `inline` everywhere when this Node or these timeouts do not allow it);
   * `inline` rewrites every connection in the socket's own read path from its accept (native
   * writes); `wrap` puts a stream in front of the socket (the fallback when Node's internals do
   * not allow `inline`).
   */
  listTranslation?: 'native' | 'inline' | 'wrap';
  /** Vault's listener timeouts; its defaults for what is absent. */
  timeouts?: Partial<ListenerTimeouts>;
  /** Most connections open at once (`max_connections`); `DEFAULT_MAX_CONNECTIONS` when absent. */
  maxConnections?: number;
  /** Where refused and timed-out connections are reported (debug and warn levels). */
  log?: Logger;
}

export interface RunningListener {
  /** `http://host:port` as clients should use it. */
  url: string;
  port: number;
  /**
   * Re-reads the TLS certificate and key files (SIGHUP): new handshakes present the new pair,
   * connections already open keep theirs. Resolves whether anything changed (false without
   * TLS); rejects, keeping the current pair, when the files cannot be read or do not match.
   */
  reloadTls(): Promise<boolean>;
  close(): Promise<void>;
}

/** Descriptors kept for everything but client connections: database, WAL, audit files, AWS connections, stdio. */
const RESERVED_DESCRIPTORS = 64;

/** The soft open-files limit of this process, where the OS tells it (Linux); undefined elsewhere. */
function openFilesLimit(): number | undefined {
  try {
    const m = /^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Splits `host:port`, accepting `[::1]:8200`. */
export function splitAddress(address: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(address);
  if (!m) throw new Error(`invalid listen address "${address}": expected host:port`);
  return { host: m[1] ?? m[2] ?? '127.0.0.1', port: Number(m[3]) };
}

/**
 * Accepts TCP (or TLS) connections itself and hands each one to the Fastify app's HTTP server —
 * which therefore never listens on its own — on Node's native parser until the connection sends
 * LIST (`native-first.ts`), or wrapped for the LIST-verb translation from its accept. Node's own
 * HTTP timers, which only `listen()` would start, are started with Vault's timeouts for natively
 * parsed connections; the listener enforces them itself on translated ones
 * (`connection-deadlines.ts`), and caps the open connections.
 */
export async function listen(app: FastifyInstance, opts: ListenerOptions): Promise<RunningListener> {
  await app.ready();
  const httpServer = app.server;
  const timeouts: ListenerTimeouts = { ...DEFAULT_LISTENER_TIMEOUTS, ...opts.timeouts };
  const maxConnections = opts.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
  // The idle timeout is the listener's (Node's timer is set to it for natively parsed
  // connections, `native-first.ts`); Fastify's 72 s default would close earlier.
  httpServer.keepAliveTimeout = 0;
  const sweeper = new DeadlineSweeper(timeouts, (which) => opts.log?.debug({ timeout: which }, 'connection closed: listener timeout'));
  // What each connection handed to the HTTP server is tracked by, to tell its deadlines when a response finishes.
  const deadlinesOf = new WeakMap<object, ConnectionDeadlines>();
  const track = (socket: net.Socket): ConnectionDeadlines => {
    const deadlines = sweeper.track(socket);
    deadlinesOf.set(socket, deadlines);
    return deadlines;
  };
  const timedOut = () => opts.log?.debug({ timeout: 'node' }, 'connection closed: listener timeout');
  const native = (opts.listTranslation ?? 'native') === 'native' ? nativeFirst(httpServer, timeouts, sweeper.period, track, timedOut) : undefined;
  const onRequest = (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => {
    const deadlines = deadlinesOf.get(req.socket);
    if (deadlines) res.once('close', () => deadlines.responseFinished());
    // Only the framer sets the LIST marker: on a natively parsed connection it is the client's own.
    else if (native && req.headers[LIST_MARKER_HEADER] !== undefined) delete req.headers[LIST_MARKER_HEADER];
  };
  // Before the app's own listener, which reads the headers.
  httpServer.prependListener('request', onRequest);
  // Connections whose parser refused a request: its later errors (more bytes read meanwhile) are not answered again.
  const refused = new WeakSet<object>();
  const onClientError = (err: Error & { code?: string }, socket: net.Socket) => {
    if (native?.clientError(err, socket)) return;
    if (refused.has(socket)) return;
    refused.add(socket);
    // The app's handler (Fastify's 400) writes its answer and destroys the connection: as in Go,
    // the requests read before the refused one are answered first (a request after one that
    // closes the connection — HTTP/1.0, `Connection: close` — is then not answered at all).
    const answer = () => {
      const inFlight = (socket as net.Socket & { _httpMessage?: { once(event: 'close', cb: () => void): void } | null })._httpMessage;
      if (inFlight && !socket.destroyed && err.code !== 'ERR_HTTP_REQUEST_TIMEOUT') return void inFlight.once('close', () => setImmediate(answer));
      for (const l of clientErrorListeners) l.call(httpServer, err, socket);
    };
    answer();
  };
  // The app's handler (Fastify's 400) answers what the hand-over does not take, after the answers in flight.
  const clientErrorListeners = httpServer.listeners('clientError') as Array<(...args: unknown[]) => void>;
  httpServer.removeAllListeners('clientError');
  httpServer.on('clientError', onClientError);
  const sockets = new Set<net.Socket>();
  const onSocket = (socket: net.Socket) => {
    // Sockets handed over by 'connection' miss the accept-time TCP_NODELAY that Node's HTTP
    // server applies to its own: without it, Nagle holds the response body until the
    // client's delayed ACK (~40 ms per request on Linux).
    socket.setNoDelay(true);
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    if (native) {
      native.connect(socket);
      return;
    }
    const deadlines = sweeper.track(socket);
    const inline = opts.listTranslation !== 'wrap' && installListTranslation(socket, deadlines);
    const handed = inline ? socket : new ListVerbSocket(socket, deadlines);
    deadlinesOf.set(handed, deadlines);
    httpServer.emit('connection', handed);
  };
  const readPair = () => ({ cert: readFileSync(opts.tlsCertFile ?? ''), key: readFileSync(opts.tlsKeyFile ?? '') });
  const versions = {
    ...(opts.tlsMinVersion ? { minVersion: opts.tlsMinVersion as tls.SecureVersion } : {}),
    ...(opts.tlsMaxVersion ? { maxVersion: opts.tlsMaxVersion as tls.SecureVersion } : {}),
  };
  let pair = opts.tlsDisable || opts.tlsOptions ? undefined : readPair();
  // The handshake comes before the first request's head: it gets the header timeout.
  const handshake = timeouts.readHeaderMs > 0 ? { handshakeTimeout: timeouts.readHeaderMs } : {};
  const server = opts.tlsDisable
    ? net.createServer(onSocket)
    : tls.createServer({ ...(opts.tlsOptions ?? { ...pair, ...versions }), ...handshake }, onSocket);
  server.maxConnections = maxConnections;
  const descriptors = openFilesLimit();
  if (descriptors !== undefined && maxConnections + RESERVED_DESCRIPTORS > descriptors) {
    opts.log?.warn(
      { max_connections: maxConnections, open_files_limit: descriptors },
      'max_connections is close to or above the open-files limit (ulimit -n): clients could use up the descriptors the database, the audit log and AWS connections need; lower max_connections or raise the limit',
    );
  }
  let lastDropWarning = 0;
  server.on('drop', () => {
    // At most one warning a minute: a flood of refused connections must not flood the log too.
    const now = Date.now();
    if (now - lastDropWarning < 60_000) return;
    lastDropWarning = now;
    opts.log?.warn({ max_connections: maxConnections }, 'connection refused: max_connections open connections reached');
  });
  const { host, port } = splitAddress(opts.address);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = server.address() as net.AddressInfo;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `${opts.tlsDisable ? 'http' : 'https'}://${shownHost}:${bound.port}`,
    port: bound.port,
    reloadTls: async () => {
      if (!pair) return false;
      const next = readPair();
      if (next.cert.equals(pair.cert) && next.key.equals(pair.key)) return false;
      // Throws for a key that does not match the certificate: the current pair stays.
      (server as tls.Server).setSecureContext({ ...next, ...versions });
      pair = next;
      return true;
    },
    close: async () => {
      sweeper.stop();
      native?.stop();
      httpServer.off('request', onRequest);
      httpServer.off('clientError', onClientError);
      for (const l of clientErrorListeners) httpServer.on('clientError', l);
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      });
      await app.close();
    },
  };
}
