/**
 * The ceiling: a bare Fastify route doing one better-sqlite3 insert (PUT) or one select
 * (GET) per request, on a file in WAL mode with synchronous=NORMAL, the durability settings
 * Ferry's store uses. Prints `{"url": …}` once it listens.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import Fastify from 'fastify';

const dir = process.argv[2];
if (!dir) throw new Error('usage: sqlite-ceiling.ts <dir>');
const db = new Database(join(dir, 'ceiling.db'));
db.pragma('journal_mode = WAL');
db.pragma('synchronous = NORMAL');
db.exec('CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID');
const insert = db.prepare('INSERT OR REPLACE INTO kv (key, value) VALUES (?, ?)');
const select = db.prepare<[string], { value: Buffer }>('SELECT value FROM kv WHERE key = ?');

const app = Fastify({ logger: false });
app.put<{ Params: { '*': string } }>('/ceiling/*', async (req, reply) => {
  insert.run(req.params['*'], Buffer.from(JSON.stringify(req.body)));
  return reply.code(200).send({ ok: true });
});
app.get<{ Params: { '*': string } }>('/ceiling/*', async (req, reply) => {
  const row = select.get(req.params['*']);
  if (!row) return reply.code(404).send({ errors: [] });
  return reply.code(200).header('content-type', 'application/json').send(row.value);
});

const url = await app.listen({ host: '127.0.0.1', port: 0 });
process.stdout.write(`${JSON.stringify({ url })}\n`);
process.on('SIGTERM', () => {
  void app.close().then(() => {
    db.close();
    process.exit(0);
  });
});
