import { startTestServer, type TestServer, type TestServerOptions } from './app.js';

/**
 * Ferry nodes on one PostgreSQL database, each its own server (store stack, caches, app), as
 * separate processes would be: the first is a dev server (initialised, unsealed, `secret/`
 * mounted, root token `root`), the others open the same database and are unsealed with its key.
 * Without HA nothing elects or forwards: every node serves every request itself, which is what a
 * test of the store's cross-node guarantees wants. The caller closes them (`closeAfterTest`).
 */
export async function startPostgresNodes(connectionUrl: string, count: number, opts: TestServerOptions = {}): Promise<TestServer[]> {
  const postgres = { connectionUrl, haEnabled: false, maxParallel: 4 };
  const first = await startTestServer({ ...opts, postgres });
  const nodes = [first];
  for (let i = 1; i < count; i++) {
    const node = await startTestServer({ ...opts, postgres, dev: false });
    await node.server.security.seal.submitShare(Buffer.from(first.server.devUnsealKey!, 'base64'));
    nodes.push(node);
  }
  return nodes;
}
