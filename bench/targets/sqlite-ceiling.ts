/**
 * The ceiling: a bare Fastify route doing one better-sqlite3 statement per request, on a
 * file in WAL mode with synchronous=NORMAL (the durability settings of Ferry's store), with
 * Fastify's own JSON body parsing and no authentication, envelope or validation:
 * - PUT /ceiling/<key>: one INSERT of a new row (the key plus a server-side sequence number,
 *   so that, like a KV write, every request adds a row to a growing table);
 * - GET /ceiling/<key>: one SELECT of the newest row of the key (an index seek).
 * Prints `{"url": …}` once it listens.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import Fastify from 'fastify';
import { answerCpuQueries } from '../lib/cpu.js';

const dir = process.argv[2];
if (!dir) throw new Error('usage: sqlite-ceiling.ts <dir>');
const db = new Database(join(dir, 'ceiling.db'));
db.pragma('journal_mode = WAL');
db.pragma('synchronous = NORMAL');
db.exec('CREATE TABLE IF NOT EXISTS kv (key TEXT NOT NULL, seq INTEGER NOT NULL, value BLOB NOT NULL, PRIMARY KEY (key, seq)) WITHOUT ROWID');
const insert = db.prepare('INSERT INTO kv (key, seq, value) VALUES (?, ?, ?)');
const select = db.prepare<[string], { value: Buffer }>('SELECT value FROM kv WHERE key = ? ORDER BY seq DESC LIMIT 1');
let seq = 0;

const app = Fastify({ logger: false });
app.put<{ Params: { '*': string } }>('/ceiling/*', async (req, reply) => {
  insert.run(req.params['*'], ++seq, Buffer.from(JSON.stringify(req.body)));
  return reply.code(200).send({ seq });
});
app.get<{ Params: { '*': string } }>('/ceiling/*', async (req, reply) => {
  const row = select.get(req.params['*']);
  if (!row) return reply.code(404).send({ errors: [] });
  return reply.code(200).header('content-type', 'application/json').send(row.value);
});

const url = await app.listen({ host: '127.0.0.1', port: 0 });
answerCpuQueries();
process.stdout.write(`${JSON.stringify({ url })}\n`);
process.on('SIGTERM', () => {
  void app.close().then(() => {
    db.close();
    process.exit(0);
  });
});
