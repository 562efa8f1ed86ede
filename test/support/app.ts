import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { buildApp } from '../../src/app.js';
import { createServer, type CoreOptions, type Server } from '../../src/compose.js';
import type { SyncWorkerOptions } from '../../src/sync/index.js';
import { listen, type RunningListener } from '../../src/http/server.js';
import { LIST_MARKER_HEADER } from '../../src/http/wire.js';

/** What `main.ts` starts beside the listener: the sync worker and KV's expiry sweep. */
function startBackgroundWork(server: Server): void {
  server.sync.worker.start();
  server.expirySweep.start();
}

/** Server options, plus whether the sync worker runs (`main.ts` starts it; a test may drive `drainOnce` instead). */
export type TestServerOptions = Partial<Omit<CoreOptions, 'syncWorker'>> & { syncWorker?: SyncWorkerOptions & { start?: boolean } };

export interface TestServer {
  server: Server;
  app: FastifyInstance;
  rootToken: string;
  /** Sends a request through `app.inject` with the root token unless `token` says otherwise. */
  call(
    method: string,
    path: string,
    opts?: { body?: unknown; token?: string | null; headers?: Record<string, string>; rawBody?: string },
  ): Promise<LightMyRequestResponse & { json(): any }>;
  close(): Promise<void>;
}

/**
 * A fresh dev server over an in-memory store: one per test, no globals. The sync worker is
 * left stopped (tests drive it with `server.sync.worker.drainOnce()`) unless `syncWorker` says otherwise.
 */
export async function startTestServer(opts: TestServerOptions = {}): Promise<TestServer> {
  const server = await createServer({ storagePath: ':memory:', dev: true, devRootTokenId: 'root', ...opts });
  if (opts.syncWorker && opts.syncWorker.start !== false) startBackgroundWork(server);
  const app = await buildApp(server.core);
  await app.ready();
  return {
    server,
    app,
    rootToken: server.rootToken ?? 'root',
    call: async (method, path, o = {}) => {
      const headers: Record<string, string> = { ...(o.headers ?? {}) };
      const token = o.token === undefined ? (server.rootToken ?? 'root') : o.token;
      if (token !== null) headers['x-vault-token'] = token;
      // Node's parser (and so app.inject) knows no LIST verb: send what the socket layer turns it into.
      if (method === 'LIST') {
        method = 'GET';
        headers[LIST_MARKER_HEADER] = '1';
      }
      let payload: string | undefined = o.rawBody;
      if (payload === undefined && o.body !== undefined) payload = JSON.stringify(o.body);
      return app.inject({ method: method as any, url: path, headers, payload });
    },
    close: async () => {
      await app.close();
      await server.close();
    },
  };
}

/** A dev server listening on a random loopback port, for end-to-end tests with real clients. */
export async function startListeningServer(
  opts: TestServerOptions = {},
  listener: Partial<import('../../src/http/server.js').ListenerOptions> = {},
): Promise<{ server: Server; listener: RunningListener; rootToken: string; close(): Promise<void> }> {
  const server = await createServer({ storagePath: ':memory:', dev: true, devRootTokenId: 'root', ...opts });
  if (opts.syncWorker?.start !== false) startBackgroundWork(server);
  const app = await buildApp(server.core);
  const running = await listen(app, { address: '127.0.0.1:0', tlsDisable: true, ...listener });
  return {
    server,
    listener: running,
    rootToken: server.rootToken ?? 'root',
    close: async () => {
      await running.close();
      await server.close();
    },
  };
}
