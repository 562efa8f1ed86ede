/**
 * Ferry's dev server (KV v2 at `secret/`, root token `root`) on a FILE-backed SQLite store
 * in the given directory: WAL with synchronous=NORMAL, as in production. No audit device.
 * Prints `{"url": …, "rootToken": …}` once it listens.
 */
import { join } from 'node:path';
import { buildApp } from '../../src/app.js';
import { createServer } from '../../src/compose.js';
import { listen } from '../../src/http/server.js';
import { answerCpuQueries } from '../lib/cpu.js';

const dir = process.argv[2];
if (!dir) throw new Error('usage: ferry-server.ts <dir>');
const server = await createServer({ storagePath: join(dir, 'ferry.db'), dev: true, devRootTokenId: 'root' });
// As `main.ts` does: sync's background work runs (idle here, with nothing associated).
server.sync.worker.start();
server.expirySweep.start();
const app = await buildApp(server.core);
const listener = await listen(app, { address: '127.0.0.1:0', tlsDisable: true });
answerCpuQueries();
process.stdout.write(`${JSON.stringify({ url: listener.url, rootToken: server.rootToken })}\n`);
process.on('SIGTERM', () => {
  void listener.close().then(async () => {
    await server.close();
    process.exit(0);
  });
});
