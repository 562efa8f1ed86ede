// KV v2 metadata entries that spill their oldest inline versions (fitMetaEntry,
// META_ENTRY_MAX). A seeded random walk of every KV operation, with injected revision conflicts,
// checked after each step against the store: each retained version's data in exactly one place,
// no orphaned version entry, every readable version reads back what was written.
import { describe, expect, it } from 'vitest';
import { decodeMeta, META_ENTRY_MAX } from '../../src/kv/layout.js';
import { RevisionConflict, type RevisionCheck, type WriteOp } from '../../src/store/store.js';
import { MERGE_PATCH, useKv } from './helpers.js';

const t = useKv();

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let x = s;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

const PATHS = ['a', 'b', 'c/d'];

async function checkStore(written: Map<string, Map<number, unknown>>, step: string): Promise<void> {
  const stored = await t.server.core.store.scan('logical/');
  const metas = stored.filter((e) => /\/meta\//.test(e.key));
  const vers = new Map(stored.filter((e) => /\/ver\//.test(e.key)).map((e) => [e.key, e]));
  const claimed = new Set<string>();
  for (const entry of metas) {
    const path = entry.key.split('/meta/')[1]!;
    const meta = decodeMeta(entry.value);
    if (meta.past && Object.keys(meta.past).length > 0) {
      expect(entry.value.length, `${step}: ${path} entry over META_ENTRY_MAX with versions inline`).toBeLessThanOrEqual(META_ENTRY_MAX);
    }
    const base = entry.key.split('/meta/')[0]!;
    for (const [ns, v] of Object.entries(meta.versions)) {
      const n = Number(ns);
      const own = `${base}/ver/${meta.incarnation}/${n}`;
      const places =
        (n === meta.current && meta.data !== undefined && meta.data !== null ? 1 : 0) + (meta.past?.[n] !== undefined ? 1 : 0) + (vers.has(own) ? 1 : 0);
      if (v.destroyed) expect(places, `${step}: ${path} v${n} destroyed but data kept`).toBe(0);
      else {
        expect(places, `${step}: ${path} v${n} data in ${places} places`).toBe(1);
        const data = n === meta.current && meta.data != null ? meta.data : (meta.past?.[n] ?? JSON.parse(vers.get(own)!.value.toString()));
        expect(data, `${step}: ${path} v${n} data`).toEqual(written.get(path)!.get(n));
      }
      if (vers.has(own)) claimed.add(own);
    }
    for (const ns of Object.keys(meta.past ?? {})) {
      expect(meta.versions[ns], `${step}: ${path} past v${ns} of no version`).toBeDefined();
      expect(Number(ns), `${step}: ${path} past holds the current version`).not.toBe(meta.current);
    }
  }
  const orphans = [...vers.keys()].filter((k) => !claimed.has(k));
  expect(orphans, `${step}: orphaned version entries`).toEqual([]);
}

describe('KV metadata entries spilling inline versions (fitMetaEntry)', () => {
  for (const seed of [1, 2, 3, 4]) {
    it(`random walk ${seed}: each version's data lives in exactly one place and reads back, under injected revision conflicts`, async () => {
      const random = rng(seed);
      const pick = <T>(xs: T[]): T => xs[Math.floor(random() * xs.length)]!;
      const store = t.server.core.store;
      const commit = store.commit.bind(store);
      let conflicts = 0;
      store.commit = (async (ops: WriteOp[], checks?: RevisionCheck[]) => {
        if (random() < 0.15 && ops.some((o) => 'key' in o && o.key.includes('/meta/'))) {
          conflicts++;
          throw new RevisionConflict('injected');
        }
        return commit(ops, checks);
      }) as typeof store.commit;
      const written = new Map<string, Map<number, unknown>>(PATHS.map((p) => [p, new Map()]));
      const current = new Map<string, number>(PATHS.map((p) => [p, 0]));
      const value = (path: string, n: number) => {
        const size = pick([20, 150, 300, 360, 600]);
        return { path, n, s: 'x'.repeat(size) };
      };
      const write = async (path: string) => {
        const n = current.get(path)! + 1;
        const data = value(path, n);
        const res = await t.call('PUT', `/v1/secret/data/${path}`, { body: { data } });
        expect(res.statusCode, res.body).toBe(200);
        expect(res.json().data.version).toBe(n);
        current.set(path, n);
        written.get(path)!.set(n, data);
      };
      for (let step = 0; step < 150; step++) {
        const path = pick(PATHS);
        const n = current.get(path)!;
        const some = () => [Math.max(1, n - Math.floor(random() * 10))];
        const op = random();
        let name: string;
        if (op < 0.4) {
          name = 'write';
          await write(path);
        } else if (op < 0.48) {
          name = 'concurrent writes';
          await Promise.all([write('a'), write('b'), write('c/d')]);
        } else if (op < 0.55 && n > 0) {
          name = 'patch';
          const res = await t.call('PATCH', `/v1/secret/data/${path}`, { body: { data: { p: step } }, headers: MERGE_PATCH });
          if (res.statusCode === 200) {
            current.set(path, n + 1);
            written.get(path)!.set(n + 1, { ...(written.get(path)!.get(n) as object), p: step });
          }
        } else if (op < 0.62) {
          name = 'destroy';
          await t.call('PUT', `/v1/secret/destroy/${path}`, { body: { versions: some() } });
        } else if (op < 0.68) {
          name = 'delete';
          await t.call('POST', `/v1/secret/delete/${path}`, { body: { versions: some() } });
        } else if (op < 0.74) {
          name = 'undelete';
          await t.call('POST', `/v1/secret/undelete/${path}`, { body: { versions: some() } });
        } else if (op < 0.8) {
          name = 'max_versions';
          await t.call('POST', `/v1/secret/metadata/${path}`, { body: { max_versions: pick([0, 2, 5, 12]) } });
        } else if (op < 0.88) {
          name = 'custom metadata';
          const big = random() < 0.5;
          const custom = big ? { k1: 'v'.repeat(500), k2: 'w'.repeat(500), k3: 'y'.repeat(500) } : {};
          await t.call('POST', `/v1/secret/metadata/${path}`, { body: { custom_metadata: custom } });
        } else if (op < 0.92) {
          name = 'delete metadata';
          await t.call('DELETE', `/v1/secret/metadata/${path}`);
          current.set(path, 0);
          written.set(path, new Map());
        } else {
          name = 'delete latest';
          await t.call('DELETE', `/v1/secret/data/${path}`);
        }
        await checkStore(written, `step ${step} (${name} ${path})`);
        // Every version the metadata lists as live reads back what was written.
        for (const p of PATHS) {
          const meta = await t.call('GET', `/v1/secret/metadata/${p}`);
          if (meta.statusCode !== 200) continue;
          for (const [ns, v] of Object.entries(meta.json().data.versions as Record<string, { destroyed: boolean; deletion_time: string }>)) {
            if (v.destroyed || v.deletion_time !== '') continue;
            const read = await t.call('GET', `/v1/secret/data/${p}?version=${ns}`);
            expect(read.json().data?.data, `step ${step}: read ${p} v${ns}`).toEqual(written.get(p)!.get(Number(ns)));
          }
        }
      }
      expect(conflicts).toBeGreaterThan(0);
    });
  }
});
