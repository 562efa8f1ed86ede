import net from 'node:net';
import tls from 'node:tls';
import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { ListVerbSocket, installListTranslation } from './list-verb.js';

export interface ListenerOptions {
  address: string;
  tlsDisable: boolean;
  tlsCertFile?: string;
  tlsKeyFile?: string;
  /** Node's names (`TLSv1.2`); Node's defaults when unset. */
  tlsMinVersion?: string;
  tlsMaxVersion?: string;
  /**
   * How LIST is translated: `inline` rewrites in the socket's own read path (native writes,
   * the default); `wrap` puts a stream in front of the socket (the fallback when Node's
   * internals do not allow `inline`).
   */
  listTranslation?: 'inline' | 'wrap';
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

/** Splits `host:port`, accepting `[::1]:8200`. */
export function splitAddress(address: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(address);
  if (!m) throw new Error(`invalid listen address "${address}": expected host:port`);
  return { host: m[1] ?? m[2] ?? '127.0.0.1', port: Number(m[3]) };
}

/**
 * Accepts TCP (or TLS) connections itself and hands each one, wrapped for the LIST-verb
 * translation, to the Fastify app's HTTP server — which therefore never listens on its own.
 */
export async function listen(app: FastifyInstance, opts: ListenerOptions): Promise<RunningListener> {
  await app.ready();
  const httpServer = app.server;
  const sockets = new Set<net.Socket>();
  const onSocket = (socket: net.Socket) => {
    // Sockets handed over by 'connection' miss the accept-time TCP_NODELAY that Node's HTTP
    // server applies to its own: without it, Nagle holds the response body until the
    // client's delayed ACK (~40 ms per request on Linux).
    socket.setNoDelay(true);
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    const inline = opts.listTranslation !== 'wrap' && installListTranslation(socket);
    httpServer.emit('connection', inline ? socket : new ListVerbSocket(socket));
  };
  const readPair = () => ({ cert: readFileSync(opts.tlsCertFile ?? ''), key: readFileSync(opts.tlsKeyFile ?? '') });
  const versions = {
    ...(opts.tlsMinVersion ? { minVersion: opts.tlsMinVersion as tls.SecureVersion } : {}),
    ...(opts.tlsMaxVersion ? { maxVersion: opts.tlsMaxVersion as tls.SecureVersion } : {}),
  };
  let pair = opts.tlsDisable ? undefined : readPair();
  const server = opts.tlsDisable ? net.createServer(onSocket) : tls.createServer({ ...pair, ...versions }, onSocket);
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
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      });
      await app.close();
    },
  };
}
