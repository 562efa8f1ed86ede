/**
 * PostgreSQL restarted under load, one Ferry node: while the database is away requests fail
 * cleanly — 503 with Vault's error body, never a 500 and never a hang — and once it is back they
 * succeed again without restarting Ferry; no write acknowledged before (or after) is lost.
 *
 * The test stops and starts its own cluster (the run's shared one serves other files), so it
 * needs PostgreSQL's server binaries even when FERRY_TEST_PG_URL is set.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startListeningServer } from '../support/app.js';
import { closeAfterTest } from '../support/fixtures.js';
import { PG_LOCAL_CLUSTERS, PG_SKIP_REASON, startPostgresCluster, type LocalPostgres } from '../support/postgres.js';

const SKIP = PG_LOCAL_CLUSTERS
  ? ''
  : PG_SKIP_REASON || 'PostgreSQL restart test skipped: it starts its own cluster and needs the server binaries (apt-get install postgresql)';
if (SKIP) console.warn(SKIP);

interface Outcome {
  status: number | 'hang' | 'network';
  body?: unknown;
}

describe.skipIf(SKIP !== '')(SKIP ? `PostgreSQL restarted under load (skipped: ${SKIP.slice(0, 60)}…)` : 'PostgreSQL restarted under load', () => {
  let pg: LocalPostgres;
  beforeAll(async () => {
    pg = await startPostgresCluster();
  }, 60_000);
  afterAll(async () => {
    await pg?.destroy();
  });

  it('requests answer 503 with an error body (never 500, never a hang) while it is down, then succeed again; no acknowledged write is lost', async () => {
    const node = closeAfterTest(await startListeningServer({ postgres: { connectionUrl: pg.url(), haEnabled: false, maxParallel: 8 } }));
    const base = node.listener.url;
    const send = async (method: string, path: string, body?: unknown): Promise<Outcome> => {
      try {
        const res = await fetch(`${base}${path}`, {
          method,
          headers: { 'x-vault-token': node.rootToken },
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: AbortSignal.timeout(15_000),
        });
        const text = await res.text();
        return { status: res.status, body: text ? JSON.parse(text) : undefined };
      } catch (err) {
        return { status: (err as Error).name === 'TimeoutError' ? 'hang' : 'network' };
      }
    };

    // Every version is kept, so that every acknowledged one can be read back at the end.
    expect((await send('POST', '/v1/secret/config', { max_versions: 100_000 })).status).toBe(204);
    // Acknowledged writes: key → version → the sequence number written.
    const acknowledged = new Map<string, Map<number, number>>();
    const outcomes: Outcome[] = [];
    let phase: 'before' | 'down' | 'after' = 'before';
    const afterSuccesses = { count: 0 };
    let stop = false;
    const writer = async (w: number) => {
      const key = `load-${w}`;
      acknowledged.set(key, new Map());
      for (let seq = 0; !stop; seq++) {
        const out = await send('PUT', `/v1/secret/data/${key}`, { data: { seq: String(seq) } });
        outcomes.push(out);
        if (out.status === 200) {
          acknowledged.get(key)!.set((out.body as { data: { version: number } }).data.version, seq);
          if (phase === 'after') afterSuccesses.count++;
        }
        // Reads go on too: they must fail as cleanly.
        outcomes.push(await send('GET', `/v1/secret/data/${key}`));
        if (out.status !== 200) await new Promise((r) => setTimeout(r, 20));
      }
    };
    const writers = Array.from({ length: 8 }, (_, w) => writer(w));

    const waitFor = async (what: () => boolean, ms: number) => {
      const deadline = Date.now() + ms;
      while (!what()) {
        if (Date.now() > deadline) throw new Error('timed out');
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    await waitFor(() => [...acknowledged.values()].every((m) => m.size >= 3), 10_000);
    const beforeStop = outcomes.length;
    phase = 'down';
    // As a crash (no clean shutdown; recovery at the next start), down for at least 1.5 s: every
    // request in this window must get its 503 quickly (the 15 s client timeout would call it a hang).
    await pg.stop('immediate');
    const downAt = Date.now();
    await waitFor(() => outcomes.slice(beforeStop).filter((o) => o.status === 503).length >= 8 && Date.now() - downAt >= 1500, 10_000);
    await pg.start();
    phase = 'after';
    await waitFor(() => afterSuccesses.count >= 8, 20_000);
    stop = true;
    await Promise.all(writers);

    const statuses = new Map<string, number>();
    for (const o of outcomes) statuses.set(String(o.status), (statuses.get(String(o.status)) ?? 0) + 1);
    console.log(`PostgreSQL restart under load: ${outcomes.length} requests, by status ${JSON.stringify(Object.fromEntries(statuses))}`);
    expect([...statuses.keys()].filter((s) => s !== '200' && s !== '503')).toEqual([]);
    expect(statuses.get('503')).toBeGreaterThanOrEqual(8);
    for (const o of outcomes.filter((x) => x.status === 503)) {
      expect(o.body).toEqual({ errors: [expect.any(String)] });
      expect((o.body as { errors: string[] }).errors[0]).toMatch(/^storage is unavailable/);
    }

    // Every acknowledged write is there, at the version it was acknowledged with.
    for (const [key, versions] of acknowledged) {
      for (const [version, seq] of versions) {
        const read = await send('GET', `/v1/secret/data/${key}?version=${version}`);
        expect(read.status, `${key} v${version}`).toBe(200);
        expect((read.body as { data: { data: { seq: string } } }).data.data.seq, `${key} v${version}`).toBe(String(seq));
      }
    }
  }, 90_000);
});
