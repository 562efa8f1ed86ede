import { beforeEach, describe, expect, it } from 'vitest';
import { parseKvChangeEvent } from '../../src/kv/index.js';
import { HOUR, MERGE_PATCH, T0, events, put, useKv } from './helpers.js';

/**
 * Every change sync must see appends one `kv-events` outbox item in the same commit as the
 * change (src/kv/events.ts); no-ops and refused requests append nothing; payloads never
 * carry secret values.
 */
const t = useKv();
let accessor: string;
beforeEach(async () => {
  accessor = t.server.core.mounts.get('secret/')!.accessor;
});

const SECRET = 'hunter2-value';

describe('KV v2 change events (kv-events outbox)', () => {
  it('appends one event per change with mount accessor, path, change, current version, incarnation and time', async () => {
    await put(t, 'team/app', { password: SECRET });
    t.clock.advance(1);
    await t.call('PATCH', '/v1/secret/data/team/app', { body: { data: { password: `${SECRET}-2` } }, headers: MERGE_PATCH });
    t.clock.advance(1);
    await t.call('DELETE', '/v1/secret/data/team/app');
    t.clock.advance(1);
    await t.call('PUT', '/v1/secret/undelete/team/app', { body: { versions: ['2'] } });
    t.clock.advance(1);
    await t.call('PUT', '/v1/secret/delete/team/app', { body: { versions: ['1'] } });
    t.clock.advance(1);
    await t.call('PUT', '/v1/secret/destroy/team/app', { body: { versions: ['1', '2'] } });
    t.clock.advance(1);
    await t.call('DELETE', '/v1/secret/metadata/team/app');

    const items = await t.server.core.store.pendingOutbox('kv-events');
    expect(items.map((i) => i.orderKey)).toEqual(Array(7).fill(`${accessor}:team/app`));
    for (const i of items) expect(i.payload).not.toContain(SECRET);
    const evs = items.map((i) => parseKvChangeEvent(i.payload));
    const incarnation = evs[0]!.incarnation;
    expect(incarnation).toMatch(/^[0-9a-f-]{36}$/);
    expect(evs).toEqual([
      { mountAccessor: accessor, path: 'team/app', change: 'write', version: 1, incarnation, at: T0 },
      { mountAccessor: accessor, path: 'team/app', change: 'patch', version: 2, incarnation, at: T0 + 1 },
      { mountAccessor: accessor, path: 'team/app', change: 'delete', version: 2, incarnation, at: T0 + 2 },
      { mountAccessor: accessor, path: 'team/app', change: 'undelete', version: 2, incarnation, at: T0 + 3 },
      { mountAccessor: accessor, path: 'team/app', change: 'delete', version: 2, incarnation, at: T0 + 4 },
      { mountAccessor: accessor, path: 'team/app', change: 'destroy', version: 2, incarnation, at: T0 + 5 },
      { mountAccessor: accessor, path: 'team/app', change: 'metadata-delete', version: 2, incarnation, at: T0 + 6 },
    ]);
    for (const e of items.map((i) => JSON.parse(i.payload))) {
      expect(Object.keys(e).sort()).toEqual(['at', 'change', 'incarnation', 'mountAccessor', 'path', 'version']);
    }
  });

  it('a metadata delete and re-create starts a new incarnation', async () => {
    await put(t, 'app', { a: 1 });
    await t.call('DELETE', '/v1/secret/metadata/app');
    await put(t, 'app', { a: 1 });
    const [first, , third] = await events(t);
    expect(third!.incarnation).not.toBe(first!.incarnation);
    expect(third).toMatchObject({ change: 'write', version: 1 });
  });

  it('no-ops append nothing: idempotent deletes, missing keys, unknown versions, reads, metadata and config writes', async () => {
    await put(t, 'app', { a: 1 });
    await t.call('DELETE', '/v1/secret/data/app');
    const count = (await events(t)).length;
    await t.call('DELETE', '/v1/secret/data/app');
    await t.call('DELETE', '/v1/secret/data/nope');
    await t.call('DELETE', '/v1/secret/metadata/nope');
    await t.call('PUT', '/v1/secret/delete/app', { body: { versions: [1, 9] } });
    await t.call('PUT', '/v1/secret/undelete/nope', { body: { versions: [1] } });
    await t.call('PUT', '/v1/secret/destroy/app', { body: { versions: [9] } });
    await t.call('GET', '/v1/secret/data/app');
    await t.call('GET', '/v1/secret/metadata/app');
    await t.call('PUT', '/v1/secret/metadata/app', { body: { max_versions: 3, custom_metadata: { a: 'b' } } });
    await t.call('POST', '/v1/secret/config', { body: { max_versions: 3 } });
    expect((await events(t)).length).toBe(count);
  });

  it('refused changes append nothing', async () => {
    await put(t, 'app', { a: 1 });
    await t.call('PUT', '/v1/secret/data/app', { body: { data: { a: 2 }, options: { cas: 7 } } });
    await t.call('PATCH', '/v1/secret/data/nope', { body: { data: { a: 2 } }, headers: MERGE_PATCH });
    await t.call('PUT', '/v1/secret/data/app', { body: { data: 'x' } });
    expect((await events(t)).map((e) => e.change)).toEqual(['write']);
  });

  it('a delete_version_after expiry is reported once, by the first access that observes it', async () => {
    await t.call('POST', '/v1/secret/config', { body: { delete_version_after: '1h' } });
    await put(t, 'app', { a: 1 });
    t.clock.advance(HOUR + 5);
    expect((await t.call('GET', '/v1/secret/data/app')).statusCode).toBe(404);
    await t.call('GET', '/v1/secret/data/app');
    await t.call('GET', '/v1/secret/metadata/app');
    const evs = await events(t);
    expect(evs.map((e) => [e.change, e.version, e.at])).toEqual([
      ['write', 1, T0],
      ['delete', 1, T0 + HOUR + 5],
    ]);
    // Undeleting restarts the clock; the next expiry is a new change, reported again.
    await t.call('PUT', '/v1/secret/undelete/app', { body: { versions: [1] } });
    t.clock.advance(HOUR + 1);
    await t.call('GET', '/v1/secret/metadata/app');
    expect((await events(t)).map((e) => e.change)).toEqual(['write', 'delete', 'undelete', 'delete']);
  });

  it('an explicit soft delete is not reported again as an expiry', async () => {
    await t.call('POST', '/v1/secret/config', { body: { delete_version_after: '1h' } });
    await put(t, 'app', { a: 1 });
    await t.call('DELETE', '/v1/secret/data/app');
    t.clock.advance(2 * HOUR);
    await t.call('GET', '/v1/secret/data/app');
    expect((await events(t)).map((e) => e.change)).toEqual(['write', 'delete']);
  });

  it('sweepExpiries and observeExpiry report expiries nobody has read', async () => {
    await t.call('POST', '/v1/secret/config', { body: { delete_version_after: '1h' } });
    await put(t, 'a', { v: 1 });
    await put(t, 'b', { v: 1 });
    await put(t, 'c', { v: 1 });
    t.clock.advance(2 * HOUR);
    await put(t, 'c', { v: 2 });
    const mount = t.server.core.mounts.get('secret/')!;
    expect(await t.server.kv.observeExpiry(mount, 'a')).toBe(true);
    expect(await t.server.kv.observeExpiry(mount, 'a')).toBe(false);
    expect(await t.server.kv.sweepExpiries(mount)).toBe(1);
    expect(await t.server.kv.sweepExpiries(mount)).toBe(0);
    const deletes = (await events(t)).filter((e) => e.change === 'delete');
    expect(deletes.map((e) => e.path)).toEqual(['a', 'b']);
  });
});
