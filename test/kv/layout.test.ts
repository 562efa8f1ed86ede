import { describe, expect, it } from 'vitest';
import { decodeMeta, encodeMeta, type StoredMeta } from '../../src/kv/layout.js';

/** The compact form as first defined (`p`, inline earlier versions, added after): `JSON.stringify` of an object with the fields in this order. */
function reference(meta: StoredMeta): string {
  const compact: Record<string, unknown> = {
    i: meta.incarnation,
    c: meta.created,
    u: meta.updated,
    v: meta.current,
    o: meta.oldest,
    m: meta.maxVersions,
    r: meta.casRequired ? 1 : 0,
    a: meta.deleteVersionAfter,
    x: meta.custom,
    h: Object.entries(meta.versions).map(([n, v]) => [Number(n), v.created, v.deletion, v.destroyed ? 1 : 0]),
    n: meta.notified ? [meta.notified.version, meta.notified.deletion] : null,
  };
  if (meta.data !== undefined) compact.d = meta.data;
  if (meta.past && Object.keys(meta.past).length > 0) compact.p = Object.entries(meta.past).map(([n, d]) => [Number(n), d]);
  return JSON.stringify(compact);
}

const T0 = Date.UTC(2026, 11, 2, 20, 0, 0, 117);

function sample(): StoredMeta {
  const versions: StoredMeta['versions'] = {};
  for (let n = 3; n <= 12; n++) versions[n] = { created: T0 + n * 1000, deletion: n === 5 ? T0 + 99_000 : null, destroyed: n === 4 };
  return {
    incarnation: '6f1c2d3e-0000-4000-8000-00000000abcd',
    created: T0,
    updated: T0 + 12_000,
    current: 12,
    oldest: 3,
    maxVersions: 10,
    casRequired: true,
    deleteVersionAfter: 3600,
    custom: { owner: 'team "a"', 'ünïcode': 'välue\n' },
    versions,
    data: { username: 'svc', password: 'p"w\\d\u2028', port: 5432, nested: { a: [1, 2.5, null, true] } },
    notified: { version: 12, deletion: T0 + 5 },
  };
}

describe('KV v2 metadata entry encoding (layout.ts)', () => {
  it('is byte for byte the compact form JSON.stringify gives, and decodes back to the same metadata', () => {
    const variants: StoredMeta[] = [
      sample(),
      { ...sample(), custom: null, notified: null, casRequired: false },
      { ...sample(), data: null },
      (() => {
        const m = sample();
        delete m.data;
        return m;
      })(),
      { ...sample(), versions: {}, current: 0, oldest: 0, data: null },
      { ...sample(), past: { 6: { a: 'x' }, 10: { b: ['y', 1] }, 11: {} } },
    ];
    for (const meta of variants) {
      const encoded = encodeMeta(meta);
      expect(encoded.toString('utf8')).toBe(reference(meta));
      expect(decodeMeta(encoded)).toEqual(meta);
    }
  });

  it('a version row changed in place (deleted, undeleted, destroyed) is encoded with its new values', () => {
    const meta = sample();
    encodeMeta(meta);
    meta.versions[12]!.deletion = T0 + 77_000;
    meta.versions[5]!.deletion = null;
    meta.versions[6]!.destroyed = true;
    meta.versions[7]!.created = T0 + 1;
    expect(encodeMeta(meta).toString('utf8')).toBe(reference(meta));
    meta.versions[12]!.deletion = null;
    expect(encodeMeta(meta).toString('utf8')).toBe(reference(meta));
  });
});
