import { beforeEach, describe, expect, it } from 'vitest';
import { tokenWithPolicy } from '../security/support.js';
import { emulatorDestination, useSyncServer } from '../support/sync.js';

/**
 * Prefix associations (a Ferry extension): every secret of a mount under a folder is associated
 * with a destination, existing ones brought in by bounded steps through the outbox, later ones by
 * fan-out; explicit associations are kept apart; each secret is checked against the setter's
 * policies as they stand when it is brought in. Against the emulator, the worker drained by hand.
 */
const t = useSyncServer();

const accessor = () => t.server.core.mounts.get('my-kv/')!.accessor;
const awsName = (secret: string) => `vault/${accessor()}/${secret}`;
const put = (path: string, data: Record<string, unknown>) => t.call('PUT', `/v1/my-kv/data/${path}`, { body: { data } });
const dest = (name = 'd', extra: Record<string, unknown> = {}) => t.call('PUT', `/v1/sys/sync/destinations/aws-sm/${name}`, { body: emulatorDestination(t.emu, extra) });
const setPrefix = (prefix: string, opts: { token?: string; dest?: string; extra?: Record<string, unknown> } = {}) =>
  t.call('PUT', `/v1/sys/sync/destinations/aws-sm/${opts.dest ?? 'd'}/prefixes/set`, { body: { mount: 'my-kv', prefix, ...opts.extra }, token: opts.token });
const removePrefix = (prefix: string, d = 'd') => t.call('PUT', `/v1/sys/sync/destinations/aws-sm/${d}/prefixes/remove`, { body: { mount: 'my-kv', prefix } });
const associate = (secret: string, d = 'd') => t.call('PUT', `/v1/sys/sync/destinations/aws-sm/${d}/associations/set`, { body: { mount: 'my-kv', secret_name: secret } });
const unassociate = (secret: string, d = 'd') => t.call('PUT', `/v1/sys/sync/destinations/aws-sm/${d}/associations/remove`, { body: { mount: 'my-kv', secret_name: secret } });
const listed = async (d = 'd') => (await t.call('GET', `/v1/sys/sync/destinations/aws-sm/${d}/associations`)).json().data.associated_secrets as Record<string, any>;
const status = async (d = 'd') => (await t.call('GET', `/v1/sys/sync/destinations/aws-sm/${d}/status`)).json().data;
const valueIn = (name: string) => t.emu.getSecret('us-east-1', name)?.versions.find((v) => v.stages.includes('AWSCURRENT'))?.secretString;
const inAws = (name: string) => {
  const s = t.emu.getSecret('us-east-1', name);
  return s !== undefined && s.deletedDate === undefined;
};
const synced = () => t.emu.listSecretNames('us-east-1').filter(inAws).sort();

/** Lets the worker fan out every pending KV change event (delivering what is due meanwhile). */
async function drainKvEvents() {
  while ((await t.server.core.store.pendingOutbox('kv-events')).length > 0) await t.server.sync.worker.drainOnce();
}

async function deliver(rounds = 4) {
  for (let i = 0; i < rounds; i++) {
    t.clock.advance(1_000);
    await t.server.sync.worker.drainOnce();
  }
}

beforeEach(async () => {
  await t.call('POST', '/v1/sys/mounts/my-kv', { body: { type: 'kv-v2' } });
  expect((await dest()).statusCode).toBe(200);
});

describe('a prefix over a folder', () => {
  it('brings in the 3 secrets under apps/ (never apps2/x or a sibling), associates a secret written later on the next fan-out, and its removal unsyncs exactly what it brought in', async () => {
    for (const p of ['apps/a', 'apps/b', 'apps/x/y', 'apps2/x', 'other']) await put(p, { v: p });
    expect((await associate('other')).statusCode).toBe(200);

    const res = await setPrefix('apps/');
    expect(res.statusCode).toBe(200);
    // Answered at once: the prefix is recorded, its first bring-in step queued, nothing associated yet.
    expect(res.json().data.associated_prefixes).toEqual({
      [`${accessor()}/apps/`]: { accessor: accessor(), mount: 'my-kv/', prefix: 'apps/', state: 'bringing-in', brought_in: 0, skipped: 0, created_at: expect.any(String) },
    });
    expect(await t.server.core.store.pendingOutbox('sync-prefix')).toHaveLength(1);
    expect(Object.keys(await listed())).toEqual([`${accessor()}/other`]);

    await deliver();
    expect(synced()).toEqual([awsName('apps/a'), awsName('apps/b'), awsName('apps/x/y'), awsName('other')].sort());
    expect(valueIn(awsName('apps/x/y'))).toBe(JSON.stringify({ v: 'apps/x/y' }));
    const entries = await listed();
    expect(entries[`${accessor()}/apps/a`]).toMatchObject({ secret_name: 'apps/a', sync_status: 'SYNCED', prefix: 'apps/', explicit: false });
    expect(entries[`${accessor()}/other`].prefix).toBeUndefined();
    expect((await status()).prefixes).toEqual([{ mount: 'my-kv/', prefix: 'apps/', state: 'complete', brought_in: 3, skipped: 0, pending: 0 }]);

    // A secret written under the prefix later: associated by the next fan-out, and synced.
    await put('apps/new', { v: 'new' });
    await t.server.sync.worker.drainOnce();
    expect((await listed())[`${accessor()}/apps/new`]).toMatchObject({ prefix: 'apps/', sync_status: 'SYNCED' });
    expect(valueIn(awsName('apps/new'))).toBe(JSON.stringify({ v: 'new' }));
    await put('apps2/later', { v: 'no' });
    await deliver(1);
    expect(inAws(awsName('apps2/later'))).toBe(false);

    // apps/a is also set explicitly: removing the prefix leaves it; everything else it brought in goes.
    expect((await associate('apps/a')).statusCode).toBe(200);
    expect((await removePrefix('apps/')).statusCode).toBe(200);
    await deliver();
    expect(synced()).toEqual([awsName('apps/a'), awsName('other')].sort());
    expect(Object.keys(await listed()).sort()).toEqual([`${accessor()}/apps/a`, `${accessor()}/other`]);
    expect((await listed())[`${accessor()}/apps/a`].prefix).toBeUndefined();
    expect((await t.call('GET', '/v1/sys/sync/destinations/aws-sm/d/prefixes')).json().data.associated_prefixes).toEqual({});
    // Written after the removal: not associated.
    await put('apps/after', { v: 1 });
    await deliver(1);
    expect(inAws(awsName('apps/after'))).toBe(false);
  });

  it('brings in a secret written later on a mount that has a prefix and no association (the prefix makes KV record its changes)', async () => {
    // A first round: sync's records are migrated, and KV stops recording changes of mounts nobody watches.
    await deliver(1);
    expect((await setPrefix('apps/')).statusCode).toBe(200);
    await deliver(1);
    await put('apps/later', { v: 'later' });
    await t.server.sync.worker.drainOnce();
    expect(valueIn(awsName('apps/later'))).toBe(JSON.stringify({ v: 'later' }));
  });

  it('keeps explicit and prefix-derived apart: removing the explicit association leaves the prefix one; a secret only the prefix covers cannot be removed (400 naming the prefix)', async () => {
    await put('apps/a', { v: 1 });
    await put('apps/b', { v: 2 });
    expect((await associate('apps/a')).statusCode).toBe(200);
    expect((await setPrefix('apps/')).statusCode).toBe(200);
    await deliver();
    expect((await listed())[`${accessor()}/apps/a`]).toMatchObject({ prefix: 'apps/', explicit: true, sync_status: 'SYNCED' });
    // apps/a was associated already: the prefix did not bring it in.
    expect((await status()).prefixes[0]).toMatchObject({ brought_in: 1 });

    expect((await unassociate('apps/a')).statusCode).toBe(200);
    await deliver();
    expect((await listed())[`${accessor()}/apps/a`]).toMatchObject({ prefix: 'apps/', explicit: false, sync_status: 'SYNCED' });
    expect(inAws(awsName('apps/a'))).toBe(true);

    const refused = await unassociate('apps/b');
    expect([refused.statusCode, refused.json()]).toEqual([
      400,
      {
        errors: [
          `secret "apps/b" of mount my-kv/ is synced through the prefix "apps/" of destination aws-sm/d, not by an association of its own: remove the prefix (prefixes/remove) to unsync it`,
        ],
      },
    ]);
    await deliver();
    expect(inAws(awsName('apps/b'))).toBe(true);
  });

  it('refuses a prefix that is not a folder or is missing, and covers the whole mount with ""', async () => {
    const missing = await t.call('PUT', '/v1/sys/sync/destinations/aws-sm/d/prefixes/set', { body: { mount: 'my-kv' } });
    expect([missing.statusCode, missing.json().errors[0]]).toEqual([400, expect.stringContaining('missing required field "prefix"')]);
    for (const bad of ['apps', '/apps/', 'apps//x/']) {
      const res = await setPrefix(bad);
      expect([bad, res.statusCode, res.json().errors[0]]).toEqual([bad, 400, expect.stringContaining(`invalid prefix "${bad}"`)]);
    }
    expect((await t.call('GET', '/v1/sys/sync/destinations/aws-sm/d/prefixes')).json().data.associated_prefixes).toEqual({});
    await put('top', { v: 1 });
    await put('deep/er/still', { v: 2 });
    expect((await setPrefix('')).statusCode).toBe(200);
    await deliver();
    expect(synced()).toEqual([awsName('deep/er/still'), awsName('top')].sort());
    // A mount with a prefix cannot be disabled.
    const unmount = await t.call('DELETE', '/v1/sys/mounts/my-kv');
    expect(unmount.statusCode).toBe(400);
  });

  it('syncs a secret written while its bring-in is pending once, at its latest value, and counts it once', async () => {
    for (const p of ['apps/a', 'apps/b', 'apps/c']) await put(p, { v: 'first' });
    // The worker has seen those writes (nothing was associated): the bring-in step finds them.
    await drainKvEvents();
    expect((await setPrefix('apps/')).statusCode).toBe(200);
    // Written after the set, before the step ran: its fan-out and the step meet in one round.
    await put('apps/b', { v: 'latest' });
    await deliver();
    const b = t.emu.getSecret('us-east-1', awsName('apps/b'))!;
    expect(b.versions.map((v) => v.secretString)).toEqual([JSON.stringify({ v: 'latest' })]);
    expect((await status()).prefixes[0]).toMatchObject({ state: 'complete', brought_in: 3 });
    expect(t.emu.requestLog().filter((e) => e.operation === 'CreateSecret')).toHaveLength(3);
  });

  it('brings a large folder in by bounded steps of 500, progress in the status, each secret exactly once; a set again mid-way starts over and finishes', async () => {
    // Delivery paused: only the bring-in steps run.
    expect((await t.call('PUT', '/v1/sys/sync/config', { body: { disabled: true } })).statusCode).toBe(200);
    const names = Array.from({ length: 1001 }, (_, i) => `bulk/${String(i % 7)}/s${i}`);
    for (const n of names) await put(n, { n });
    await put('bulk-other', { n: 0 });
    await drainKvEvents();
    // The setter may not read bulk/5/ at first (143 secrets, all after the 500th in key order).
    const policy = (denied: boolean) =>
      t.call('PUT', '/v1/sys/policies/acl/bulk-sync', {
        body: {
          policy:
            'path "sys/sync/destinations/aws-sm/d/prefixes/set" { capabilities = ["update"] }\n' +
            'path "my-kv/data/*" { capabilities = ["read"] }\n' +
            (denied ? 'path "my-kv/data/bulk/5/*" { capabilities = ["deny"] }\n' : ''),
        },
      });
    expect((await policy(true)).statusCode).toBe(204);
    const token = (await t.call('POST', '/v1/auth/token/create', { body: { policies: ['bulk-sync'] } })).json().auth.client_token as string;
    expect((await setPrefix('bulk/', { token })).statusCode).toBe(200);
    const seen: number[] = [];
    for (let i = 0; i < 2; i++) {
      await t.server.sync.worker.drainOnce();
      seen.push((await status()).prefixes[0].brought_in);
    }
    expect(seen).toEqual([500, 1000 - 143]);
    expect((await status()).prefixes[0]).toMatchObject({ state: 'bringing-in', skipped: 143 });

    // The policy widened and the prefix set again mid-way: a new bring-in from the start; the
    // earlier one stops (it would otherwise finish first and cut the new one short).
    expect((await policy(false)).statusCode).toBe(204);
    expect((await setPrefix('bulk/', { token })).statusCode).toBe(200);
    for (let i = 0; i < 8 && (await status()).prefixes[0].state !== 'complete'; i++) {
      await t.server.sync.worker.drainOnce();
      seen.push((await status()).prefixes[0].brought_in);
    }
    expect((await status()).prefixes[0]).toMatchObject({ state: 'complete', brought_in: 1001, skipped: 0, pending: 1001 });
    expect(seen.every((n, i) => i === 0 || n >= seen[i - 1]!)).toBe(true);
    const keys = Object.values(await listed()).map((e: any) => e.secret_name).sort();
    expect(keys).toEqual([...names].sort());
  });

  it('lists the paths of a mount in key order with a cursor: every secret once, folders and look-alikes (a, a-b, a/x) in order', async () => {
    const paths = ['z', 'a/y/z', 'a', 'b/c', 'a-b', 'a0', 'a/x'];
    for (const p of paths) await put(p, { v: 1 });
    const kv = t.server.kv;
    const mount = t.server.core.mounts.get('my-kv/')!;
    const pages: string[][] = [];
    for (let after: string | null = null; ; ) {
      const page = await kv.listSecretPaths(mount, '', after, 3);
      pages.push(page);
      if (page.length < 3) break;
      after = page.at(-1)!;
    }
    expect(pages.flat()).toEqual(['a', 'a-b', 'a/x', 'a/y/z', 'a0', 'b/c', 'z']);
    expect(await kv.listSecretPaths(mount, 'a/', null, 10)).toEqual(['a/x', 'a/y/z']);
  });
});

describe('other destinations and granularities', () => {
  it('associates an existing secret with a second destination’s prefix, leaving the first destination’s association as it is', async () => {
    expect((await dest('e', { secret_name_template: 'vault-e/{{ .SecretPath }}' })).statusCode).toBe(200);
    await put('apps/a', { v: 1 });
    expect((await associate('apps/a')).statusCode).toBe(200);
    expect((await setPrefix('apps/', { dest: 'e' })).statusCode).toBe(200);
    await deliver();
    expect((await listed('d'))[`${accessor()}/apps/a`].prefix).toBeUndefined();
    expect((await listed('e'))[`${accessor()}/apps/a`]).toMatchObject({ prefix: 'apps/', explicit: false, sync_status: 'SYNCED' });
    expect(synced()).toEqual([awsName('apps/a'), 'vault-e/apps/a'].sort());
    // A secret written later that d already has (set explicitly before its first write reached the worker): e's prefix takes it too.
    await put('apps/b', { v: 1 });
    expect((await associate('apps/b')).statusCode).toBe(200);
    await deliver();
    expect((await listed('e'))[`${accessor()}/apps/b`]).toMatchObject({ prefix: 'apps/', sync_status: 'SYNCED' });
    expect(synced()).toEqual([awsName('apps/a'), awsName('apps/b'), 'vault-e/apps/a', 'vault-e/apps/b'].sort());
  });

  it('keeps a secret two overlapping prefixes cover synced when one of them is removed, whichever brought it in', async () => {
    await put('apps/x/old', { v: 1 });
    expect((await setPrefix('apps/')).statusCode).toBe(200);
    expect((await setPrefix('apps/x/')).statusCode).toBe(200);
    await deliver();
    await put('apps/x/new', { v: 1 });
    await put('apps/y', { v: 1 });
    await deliver();
    expect((await removePrefix('apps/')).statusCode).toBe(200);
    await deliver();
    expect(synced()).toEqual([awsName('apps/x/new'), awsName('apps/x/old')]);
    expect((await listed())[`${accessor()}/apps/x/new`]).toMatchObject({ prefix: 'apps/x/', sync_status: 'SYNCED' });
  });

  it('with secret-key granularity, brings in one AWS secret per key', async () => {
    expect((await dest('keys', { granularity: 'secret-key' })).statusCode).toBe(200);
    await put('apps/db', { user: 'u', password: 'p' });
    expect((await setPrefix('apps/', { dest: 'keys' })).statusCode).toBe(200);
    await deliver();
    expect(synced()).toEqual([`${awsName('apps/db')}/password`, `${awsName('apps/db')}/user`]);
    expect(valueIn(`${awsName('apps/db')}/user`)).toBe('u');
  });
});

describe('a destination deleted', () => {
  it('drops its prefixes with force_delete: nothing is brought in any more, and the mount can be disabled', async () => {
    await put('apps/a', { v: 1 });
    expect((await setPrefix('apps/')).statusCode).toBe(200);
    await deliver();
    expect((await t.call('DELETE', '/v1/sys/sync/destinations/aws-sm/d?force_delete=true')).statusCode).toBe(204);
    expect(await t.server.core.store.list('sync/prefixes/')).toEqual([]);
    expect(await t.server.core.store.list('sync/by-prefix/')).toEqual([]);
    await put('apps/b', { v: 1 });
    await deliver(1);
    expect(inAws(awsName('apps/b'))).toBe(false);
    expect((await t.call('DELETE', '/v1/sys/mounts/my-kv')).statusCode).toBe(204);
  });
});

describe('the setter’s policies', () => {
  it('never syncs a secret under a denied sub-path, counts it skipped, and stops bringing in new secrets once the policy is revoked', async () => {
    const token = await tokenWithPolicy(
      t,
      'apps-sync',
      'path "sys/sync/destinations/aws-sm/d/prefixes/set" { capabilities = ["update"] }\n' +
        'path "my-kv/data/apps/*" { capabilities = ["read"] }\n' +
        'path "my-kv/data/apps/private/*" { capabilities = ["deny"] }\n',
    );
    await put('apps/public', { v: 1 });
    await put('apps/private/x', { v: 'SECRET-MARKER' });
    expect((await setPrefix('apps/', { token })).statusCode).toBe(200);
    await deliver();
    expect(synced()).toEqual([awsName('apps/public')]);
    expect((await status()).prefixes[0]).toMatchObject({ brought_in: 1, skipped: 1 });
    // Written later under the denied sub-path: skipped too.
    await put('apps/private/y', { v: 'SECRET-MARKER' });
    await deliver(1);
    expect(synced()).toEqual([awsName('apps/public')]);
    expect((await status()).prefixes[0]).toMatchObject({ brought_in: 1, skipped: 2 });

    // A secret the setter may not read but someone set explicitly: the prefix does not take it on,
    // so removing the explicit association unsyncs it.
    await put('apps/private/z', { v: 'SECRET-MARKER' });
    expect((await associate('apps/private/z')).statusCode).toBe(200);
    expect((await setPrefix('apps/', { token })).statusCode).toBe(200);
    await deliver(2);
    expect((await listed())[`${accessor()}/apps/private/z`].prefix).toBeUndefined();
    expect((await unassociate('apps/private/z')).statusCode).toBe(200);
    await deliver(2);
    expect(synced()).toEqual([awsName('apps/public')]);
    expect((await status()).prefixes[0]).toMatchObject({ brought_in: 1, skipped: 3 });

    // The policy revoked: a new secret no longer flows; one already synced goes on being delivered.
    expect((await t.call('DELETE', '/v1/sys/policies/acl/apps-sync')).statusCode).toBe(204);
    await put('apps/new', { v: 1 });
    await put('apps/public', { v: 2 });
    await deliver(2);
    expect(synced()).toEqual([awsName('apps/public')]);
    expect(valueIn(awsName('apps/public'))).toBe(JSON.stringify({ v: 2 }));
    expect((await status()).prefixes[0]).toMatchObject({ brought_in: 1, skipped: 4 });
    expect(JSON.stringify(await status())).not.toContain('SECRET-MARKER');
  });

  it('refuses prefixes/set to a token without update on that path (403), storing nothing', async () => {
    const token = await tokenWithPolicy(t, 'reader', 'path "my-kv/data/*" { capabilities = ["read"] }\n');
    const res = await setPrefix('apps/', { token });
    expect(res.statusCode).toBe(403);
    expect(await t.server.core.store.pendingOutbox('sync-prefix')).toHaveLength(0);
  });
});

describe('name claims hold for prefix-derived associations', () => {
  it("makes a name another association syncs a conflict on the prefix's association, never written", async () => {
    expect((await dest('fixed', { secret_name_template: 'vault-fixed-name' })).statusCode).toBe(200);
    await put('other', { v: 'owner' });
    await put('apps/a', { v: 'intruder' });
    expect((await associate('other', 'fixed')).statusCode).toBe(200);
    await deliver();
    expect((await setPrefix('apps/', { dest: 'fixed' })).statusCode).toBe(200);
    await deliver();
    const entry = (await listed('fixed'))[`${accessor()}/apps/a`];
    expect(entry).toMatchObject({ sync_status: 'CLIENT_SIDE_ERROR', prefix: 'apps/' });
    expect(entry.last_error).toContain('conflict: the AWS secret name "vault-fixed-name" is already synced by another association of this destination');
    expect(valueIn('vault-fixed-name')).toBe(JSON.stringify({ v: 'owner' }));
    expect(t.emu.getSecret('us-east-1', 'vault-fixed-name')!.versions).toHaveLength(1);
  });
});
