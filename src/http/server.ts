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
  const server = opts.tlsDisable
    ? net.createServer(onSocket)
    : tls.createServer(
        { cert: readFileSync(opts.tlsCertFile ?? ''), key: readFileSync(opts.tlsKeyFile ?? '') },
        onSocket,
      );
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
    close: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      });
      await app.close();
    },
  };
}
