import { CreateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { beforeEach, describe, expect, it } from 'vitest';
import { guidePolicies } from '../support/aws-emulator/index.js';
import { Planner } from '../../src/sync/plans.js';
import { SyncRecords } from '../../src/sync/records.js';
import { logicalSnapshot } from '../support/store-snapshot.js';
import { emulatorDestination, outOfBandClient, syncIdentity, useSyncServer } from '../support/sync.js';

/**
 * Plans (`dry_run=true`, a Ferry extension): each request answers `data.plan` and leaves the
 * store's logical contents as they were (compared before and after: records and every outbox
 * queue); the same request without `dry_run` then does what the plan said, name for name,
 * checked in AWS after delivery.
 */
const t = useSyncServer();

const accessor = () => t.server.core.mounts.get('my-kv/')!.accessor;
const awsName = (secret: string) => `vault/${accessor()}/${secret}`;
const put = (p: string, data: Record<string, unknown>) => t.call('PUT', `/v1/my-kv/data/${p}`, { body: { data } });
const destPath = (d = 'd') => `/v1/sys/sync/destinations/aws-sm/${d}`;
const DESCRIBE = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['secretsmanager:DescribeSecret'], Resource: '*' }] };
const current = (name: string) => {
  const s = t.emu.getSecret('us-east-1', name);
  if (!s || s.deletedDate !== undefined) return undefined;
  return { value: s.versions.find((v) => v.stages.includes('AWSCURRENT'))?.secretString, owner: s.tags.find((tag) => tag.Key === 'ferry:owner')?.Value };
};
const state = () => Object.fromEntries(t.emu.listSecretNames('us-east-1').map((n) => [n, current(n)]));

async function deliver(rounds = 4) {
  for (let i = 0; i < rounds; i++) {
    t.clock.advance(1_000);
    await t.server.sync.worker.drainOnce();
  }
}

async function destination(name = 'd', extra: Record<string, unknown> = {}, describe = true) {
  const { keys } = syncIdentity(t.emu, `ferry-${name}`, describe ? { minimal: guidePolicies.MINIMAL, describe: DESCRIBE } : { minimal: guidePolicies.MINIMAL });
  const res = await t.call('PUT', destPath(name), { body: emulatorDestination(t.emu, { ...keys, ...extra }) });
  expect(res.statusCode).toBe(200);
}

/** Sends the request with dry_run=true (as the CLI sends it, a string), checks it stored nothing, and answers its plan. */
async function dryRun(method: string, url: string, body: Record<string, unknown>): Promise<any[]> {
  const before = await logicalSnapshot(t.server.core.store);
  const aws = state();
  // DELETE takes its fields as query parameters, as the CLI sends them.
  const query = new URLSearchParams(Object.entries({ ...body, dry_run: 'true' }).map(([k, v]): [string, string] => [k, String(v)]));
  const res = method === 'DELETE' ? await t.call(method, `${url}?${query}`) : await t.call(method, url, { body: { ...body, dry_run: 'true' } });
  expect(res.statusCode, res.body).toBe(200);
  expect(await logicalSnapshot(t.server.core.store)).toEqual(before);
  expect(state()).toEqual(aws);
  return res.json().data.plan;
}

/** Checks, after the real request was delivered, that AWS changed exactly as `plan` said. */
function expectDone(plan: any[], before: Record<string, ReturnType<typeof current>>, ours: RegExp = /\/aws-sm\/d$/) {
  const after = state();
  const touched = new Set<string>();
  for (const step of plan) {
    touched.add(step.name);
    if (step.old_name) touched.add(step.old_name);
    switch (step.action) {
      case 'create':
      case 'update':
      case 'adopt':
        expect(after[step.name]?.owner, step.name).toMatch(ours);
        break;
      case 'rename':
        expect(after[step.name]?.owner, step.name).toMatch(ours);
        expect(after[step.old_name], step.old_name).toBeUndefined();
        break;
      case 'delete':
        expect(after[step.name], step.name).toBeUndefined();
        break;
      case 'conflict':
        expect(after[step.name], step.name).toEqual(before[step.name]);
        break;
    }
  }
  // Nothing else in AWS changed.
  for (const name of new Set([...Object.keys(before), ...Object.keys(after)])) {
    if (!touched.has(name)) expect(after[name], name).toEqual(before[name]);
  }
}

beforeEach(async () => {
  await t.call('POST', '/v1/sys/mounts/my-kv', { body: { type: 'kv-v2' } });
});

describe('associations/set and remove', () => {
  it('plans create, update, conflict, adopt and rename, changing nothing; the real requests then do exactly that', async () => {
    await destination();
    await put('new', { v: 1 });
    await put('taken', { v: 1 });
    await outOfBandClient(t.emu).send(new CreateSecretCommand({ Name: awsName('taken'), SecretString: 'pre-existing' }));

    const set = (secret: string, extra: Record<string, unknown> = {}) => ({ mount: 'my-kv', secret_name: secret, ...extra });
    // create
    let before = state();
    let plan = await dryRun('PUT', `${destPath()}/associations/set`, set('new'));
    expect(plan).toEqual([{ action: 'create', name: awsName('new') }]);
    expect((await t.call('PUT', `${destPath()}/associations/set`, { body: set('new') })).statusCode).toBe(200);
    await deliver();
    expectDone(plan, before);

    // update (a re-set of a synced secret)
    await put('new', { v: 2 });
    before = state();
    plan = await dryRun('PUT', `${destPath()}/associations/set`, set('new'));
    expect(plan).toEqual([{ action: 'update', name: awsName('new') }]);
    expect((await t.call('PUT', `${destPath()}/associations/set`, { body: set('new') })).statusCode).toBe(200);
    await deliver();
    expectDone(plan, before);
    expect(current(awsName('new'))!.value).toBe('{"v":2}');

    // conflict (pre-existing, no adopt), then adopt
    before = state();
    plan = await dryRun('PUT', `${destPath()}/associations/set`, set('taken'));
    expect(plan).toEqual([{ action: 'conflict', name: awsName('taken'), reason: expect.stringContaining('adopt=true') }]);
    expect((await t.call('PUT', `${destPath()}/associations/set`, { body: set('taken') })).statusCode).toBe(200);
    await deliver();
    expectDone(plan, before);
    before = state();
    plan = await dryRun('PUT', `${destPath()}/associations/set`, set('taken', { adopt: true }));
    expect(plan).toEqual([{ action: 'adopt', name: awsName('taken'), reason: expect.any(String) }]);
    expect((await t.call('PUT', `${destPath()}/associations/set`, { body: set('taken', { adopt: true }) })).statusCode).toBe(200);
    await deliver();
    expectDone(plan, before);

    // rename (a re-set after a template change)
    expect((await t.call('PUT', destPath(), { body: { secret_name_template: 'vault-renamed/{{ .SecretPath }}' } })).statusCode).toBe(200);
    before = state();
    plan = await dryRun('PUT', `${destPath()}/associations/set`, set('new'));
    expect(plan).toEqual([{ action: 'rename', name: 'vault-renamed/new', old_name: awsName('new') }]);
    expect((await t.call('PUT', `${destPath()}/associations/set`, { body: set('new') })).statusCode).toBe(200);
    await deliver();
    expectDone(plan, before);

    // delete (remove)
    before = state();
    plan = await dryRun('PUT', `${destPath()}/associations/remove`, { mount: 'my-kv', secret_name: 'taken' });
    expect(plan).toEqual([{ action: 'delete', name: awsName('taken') }]);
    expect((await t.call('PUT', `${destPath()}/associations/remove`, { body: { mount: 'my-kv', secret_name: 'taken' } })).statusCode).toBe(200);
    await deliver();
    expectDone(plan, before);
  });

  it("plans a conflict naming the owner for another Ferry destination's secret, and unknown where Ferry may not read AWS", async () => {
    await destination('d');
    await destination('minimal', {}, false);
    const other = 'another-cluster/aws-sm/prod';
    await outOfBandClient(t.emu).send(new CreateSecretCommand({ Name: awsName('owned'), SecretString: 'x', Tags: [{ Key: 'ferry:owner', Value: other }] }));
    await outOfBandClient(t.emu).send(new CreateSecretCommand({ Name: awsName('blind'), SecretString: 'y' }));
    await put('owned', { v: 1 });
    await put('blind', { v: 1 });
    await put('fresh', { v: 1 });
    expect(await dryRun('PUT', `${destPath()}/associations/set`, { mount: 'my-kv', secret_name: 'owned', adopt: true })).toEqual([
      { action: 'conflict', name: awsName('owned'), owner: other, reason: expect.any(String) },
    ]);
    for (const secret of ['blind', 'fresh']) {
      expect(await dryRun('PUT', `${destPath('minimal')}/associations/set`, { mount: 'my-kv', secret_name: secret })).toEqual([
        { action: 'unknown', name: awsName(secret), reason: expect.stringContaining('DescribeSecret') },
      ]);
    }
    // What the minimal destination then does: creates the fresh one, leaves the pre-existing one alone.
    const before = state();
    for (const secret of ['blind', 'fresh']) await t.call('PUT', `${destPath('minimal')}/associations/set`, { body: { mount: 'my-kv', secret_name: secret } });
    await deliver();
    expect(state()[awsName('blind')]).toEqual(before[awsName('blind')]);
    expect(state()[awsName('fresh')]!.owner).toMatch(/\/aws-sm\/minimal$/);
  });
});

describe('prefixes/set, prefixes/remove and destination delete with purge', () => {
  it('plans a prefix set (creates and a conflict) and its removal (deletes), then a purge; each real request does what its plan said', async () => {
    await destination();
    for (const p of ['apps/a', 'apps/b', 'apps/c', 'elsewhere']) await put(p, { v: p });
    await outOfBandClient(t.emu).send(new CreateSecretCommand({ Name: awsName('apps/c'), SecretString: 'pre-existing' }));
    // The worker has seen the writes (no pending KV events to fan out later).
    await deliver(1);

    let before = state();
    let plan = await dryRun('PUT', `${destPath()}/prefixes/set`, { mount: 'my-kv', prefix: 'apps/' });
    expect(plan).toEqual([
      { action: 'create', name: awsName('apps/a') },
      { action: 'create', name: awsName('apps/b') },
      { action: 'conflict', name: awsName('apps/c'), reason: expect.any(String) },
    ]);
    expect((await t.call('PUT', `${destPath()}/prefixes/set`, { body: { mount: 'my-kv', prefix: 'apps/' } })).statusCode).toBe(200);
    await deliver();
    expectDone(plan, before);

    before = state();
    plan = await dryRun('PUT', `${destPath()}/prefixes/remove`, { mount: 'my-kv', prefix: 'apps/' });
    expect(plan).toEqual([
      { action: 'delete', name: awsName('apps/a') },
      { action: 'delete', name: awsName('apps/b') },
    ]);
    expect((await t.call('PUT', `${destPath()}/prefixes/remove`, { body: { mount: 'my-kv', prefix: 'apps/' } })).statusCode).toBe(200);
    await deliver();
    expectDone(plan, before);

    // Purge: a delete of every secret Ferry synced for the destination, and nothing else.
    await t.call('PUT', `${destPath()}/associations/set`, { body: { mount: 'my-kv', secret_name: 'elsewhere' } });
    await t.call('PUT', `${destPath()}/associations/set`, { body: { mount: 'my-kv', secret_name: 'apps/a' } });
    await deliver();
    before = state();
    plan = await dryRun('DELETE', destPath(), { purge: true });
    expect(plan.map((s) => [s.action, s.name]).sort()).toEqual([
      ['delete', awsName('apps/a')],
      ['delete', awsName('elsewhere')],
    ]);
    expect((await t.call('DELETE', `${destPath()}?purge=true`)).statusCode).toBe(204);
    await deliver();
    expectDone(plan, before);
    expect((await t.call('GET', destPath())).statusCode).toBe(404);
  });

  it('asks AWS about a bounded number of names per plan; the rest are unknown, saying why', async () => {
    await destination();
    const records = new SyncRecords(t.server.core.store);
    const planner = new Planner({ records, adapters: t.server.sync.adapters, clusterId: () => Promise.resolve('c') });
    const dest = (await records.destination('aws-sm', 'd'))!.value;
    const draft = (secret: string) => ({
      dest_type: 'aws-sm' as const, dest_name: 'd', accessor: 'kv_x', mount: 'my-kv/', secret_name: secret, granularity: 'secret-path' as const,
      template: '', created_at: '', targets: { '': { sub_key: '', name: `vault/kv_x/${secret}`, status: 'PENDING' as const, updated_at: '' } },
    });
    const budget = { describes: 1 };
    expect(await planner.forSet(dest, draft('a'), undefined, false, budget)).toEqual([{ action: 'create', name: 'vault/kv_x/a' }]);
    expect(await planner.forSet(dest, draft('b'), undefined, false, budget)).toEqual([
      { action: 'unknown', name: 'vault/kv_x/b', reason: 'not looked up: a plan asks AWS about 1000 names at most' },
    ]);
    expect(t.emu.requestLog().filter((e) => e.operation === 'DescribeSecret')).toHaveLength(1);
  });

  it('refuses a dry run the real request would refuse, with the same error', async () => {
    await destination();
    await put('app', { v: 1 });
    await t.call('PUT', `${destPath()}/associations/set`, { body: { mount: 'my-kv', secret_name: 'app' } });
    const res = await t.call('DELETE', `${destPath()}?dry_run=true`);
    expect([res.statusCode, res.json().errors[0]]).toEqual([400, expect.stringContaining('still has 1 association(s)')]);
  });
});
