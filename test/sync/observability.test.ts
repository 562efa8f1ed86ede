import { Writable } from 'node:stream';
import { PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../src/logging.js';
import { tokenWithPolicy } from '../security/support.js';
import { startTestServer } from '../support/app.js';
import { startAwsEmulator } from '../support/aws-emulator/index.js';
import { manualClock } from '../support/clock.js';
import { perTest } from '../support/fixtures.js';
import { Scrape } from '../support/prometheus.js';
import { emulatorDestination, outOfBandClient, syncIdentity, useSyncServer, type SyncTestServer } from '../support/sync.js';

/**
 * Sync that explains itself: the association entries' Ferry fields, the destination status
 * summary, the retry action, log lines once per change of cause, the adaptive budget's parking
 * and release, and sync's metrics after a scripted workload. Driven round by round
 * (`drainOnce`) on a manual clock shared with the emulator.
 */
const t = useSyncServer();

beforeEach(async () => {
  await t.call('POST', '/v1/sys/mounts/my-kv', { body: { type: 'kv-v2' } });
  await t.call('PUT', '/v1/sys/sync/destinations/aws-sm/d', { body: emulatorDestination(t.emu) });
});

const drain = async (rounds = 3) => {
  for (let i = 0; i < rounds; i++) await t.server.sync.worker.drainOnce();
};
const put = (path: string, data: Record<string, unknown>) => t.call('PUT', `/v1/my-kv/data/${path}`, { body: { data } });
const associate = (secret: string, dest = 'd') =>
  t.call('PUT', `/v1/sys/sync/destinations/aws-sm/${dest}/associations/set`, { body: { mount: 'my-kv', secret_name: secret } });
const accessor = () => t.server.core.mounts.get('my-kv/')!.accessor;
const awsName = (secret: string) => `vault/${accessor()}/${secret}`;
async function entry(secret: string, dest = 'd'): Promise<any> {
  const res = await t.call('GET', `/v1/sys/sync/destinations/aws-sm/${dest}/associations`);
  return res.json().data.associated_secrets[`${accessor()}/${secret}`];
}
async function summary(dest = 'd', token?: string): Promise<any> {
  const res = await t.call('GET', `/v1/sys/sync/destinations/aws-sm/${dest}/status`, { token });
  expect(res.statusCode, res.body).toBe(200);
  return res.json().data;
}
const awsCurrent = (secret: string) => t.emu.getSecret('us-east-1', awsName(secret))?.versions.find((v) => v.stages.includes('AWSCURRENT'))?.secretString;

describe('association entries that explain themselves', () => {
  it('shows the AWS name, and after the first throttled answer a last_error saying so, with attempts and the next attempt; a success clears them', async () => {
    await put('s', { v: '1' });
    await associate('s');
    expect(await entry('s')).toMatchObject({ external_name: awsName('s'), attempts: 0, sync_status: 'PENDING' });
    t.emu.injectFault({ kind: 'throttle', operation: 'CreateSecret', count: 1 });
    await t.server.sync.worker.drainOnce();
    const throttled = await entry('s');
    expect(throttled.sync_status).toBe('PENDING');
    expect(throttled.last_error).toMatch(/^CreateSecret: ThrottlingException: /);
    expect(throttled.attempts).toBe(1);
    expect(Date.parse(throttled.last_error_at)).toBe(t.clock());
    expect(Date.parse(throttled.next_attempt_at)).toBeGreaterThan(t.clock());
    t.clock.advance(1000);
    await drain();
    const synced = await entry('s');
    expect(synced).toMatchObject({ sync_status: 'SYNCED', attempts: 0, external_name: awsName('s') });
    expect(synced).not.toHaveProperty('last_error');
    expect(synced).not.toHaveProperty('next_attempt_at');
  });

  it('shows a transient failure at once, while the status stays PENDING until the failures repeat', async () => {
    await put('s', { v: '1' });
    await associate('s');
    t.emu.injectFault({ kind: '500', operation: 'CreateSecret', count: 3 });
    await t.server.sync.worker.drainOnce();
    expect(await entry('s')).toMatchObject({ sync_status: 'PENDING', attempts: 1, last_error: expect.stringMatching(/^CreateSecret: /) });
    for (let i = 0; i < 2; i++) {
      t.clock.advance(1000);
      await t.server.sync.worker.drainOnce();
    }
    expect(await entry('s')).toMatchObject({ sync_status: 'EXTERNAL_SERVICE_ERROR', attempts: 3 });
    t.clock.advance(1000);
    await drain();
    expect((await entry('s')).sync_status).toBe('SYNCED');
  });
});

describe('an AWS that stops answering', () => {
  it('parks the destination after one failure, probes it once per second, and releases every parked delivery as soon as it answers', async () => {
    for (let i = 0; i < 5; i++) {
      await put(`s${i}`, { i });
      await associate(`s${i}`);
    }
    t.emu.injectFault({ kind: '500', untilMs: t.clock() + 10_000 });
    await t.server.sync.worker.drainOnce();
    const parked = await summary();
    expect(parked.aws.state).toBe('unavailable');
    expect(parked.queue_depth).toBe(5);
    // Ten seconds of outage: one probe per second, not a call per association.
    t.emu.clearRequestLog();
    for (let s = 0; s < 9; s++) {
      t.clock.advance(1000);
      await t.server.sync.worker.drainOnce();
    }
    expect(t.emu.requestLog({ service: 'secretsmanager' }).length).toBe(9);
    // AWS is back: the next probe succeeds and releases the others within the same instant.
    t.clock.advance(1000);
    await t.server.sync.worker.drainOnce();
    await t.server.sync.worker.drainOnce();
    for (let i = 0; i < 5; i++) expect(awsCurrent(`s${i}`), `s${i}`).toBe(JSON.stringify({ i }));
    const after = await summary();
    expect(after.aws.state).toBe('ok');
    expect(after.sync_status_counts).toEqual({ SYNCED: 5 });
    expect(after.queue_depth).toBe(0);
  });
});

describe('the destination status summary', () => {
  it("counts its entries by status and says how AWS answers, the budget, and drift repair's state; a narrow token reads it, others are refused", async () => {
    await put('a', { v: 1 });
    await put('b', { v: 2 });
    await associate('a');
    await associate('b');
    await drain();
    // Paused: the change is fanned out to the queue and waits there.
    await t.call('PATCH', '/v1/sys/sync/config', { body: { disabled: true }, headers: { 'content-type': 'application/merge-patch+json' } });
    await put('b', { v: 3 });
    await drain(1);
    const data = await summary();
    expect(data).toMatchObject({
      name: 'd',
      type: 'aws-sm',
      associations: 2,
      sync_status_counts: { SYNCED: 1, PENDING: 1 },
      with_last_error: 0,
      queue_depth: 1,
      oldest_pending_seconds: 0,
      aws: { state: 'ok', throttled_answers: 0 },
      budget_per_second: { create: 45, update: 45, delete: 45, tag: 45 },
      drift_repair: { state: 'on', interval_seconds: 300, repairs_queued: 0 },
    });
    expect(Date.parse(data.last_success_at)).toBeLessThanOrEqual(t.clock());
    t.clock.advance(7_000);
    expect((await summary()).oldest_pending_seconds).toBe(7);

    const reader = await tokenWithPolicy(t, 'sync-status', 'path "sys/sync/destinations/aws-sm/d/status" { capabilities = ["read"] }');
    expect((await summary('d', reader)).name).toBe('d');
    const other = await tokenWithPolicy(t, 'sync-other', 'path "sys/sync/destinations/aws-sm/other/status" { capabilities = ["read"] }');
    expect((await t.call('GET', '/v1/sys/sync/destinations/aws-sm/d/status', { token: other })).statusCode).toBe(403);
    expect((await t.call('GET', '/v1/sys/sync/destinations/aws-sm/missing/status')).statusCode).toBe(404);
    expect((await t.call('GET', '/v1/sys/sync/destinations/gcp-sm/d/status')).statusCode).toBe(400);
  });
});

describe('the configured write budget (sys/sync/config write_budget_per_second, a Ferry extension)', () => {
  const patch = (body: Record<string, unknown>) =>
    t.call('PATCH', '/v1/sys/sync/config', { body, headers: { 'content-type': 'application/merge-patch+json' } });
  const created = () => t.emu.requestLog({ operation: 'CreateSecret' }).filter((e) => e.status === 200).length;

  it('paces every quota group of every destination at the configured rate from the next round, shown in the summary and the metrics', async () => {
    expect((await t.call('GET', '/v1/sys/sync/config')).json().data.write_budget_per_second).toBe(45);
    expect((await patch({ write_budget_per_second: '3' })).json().data).toMatchObject({ write_budget_per_second: 3, reconcile_interval: 300 });
    for (let i = 0; i < 5; i++) {
      await put(`s${i}`, { v: i });
      await associate(`s${i}`);
    }
    // The clock stands still: the bucket holds a quarter second's worth (at least one call), and
    // refills only as time passes: the others go one every third of a second.
    await drain();
    expect(created()).toBe(1);
    expect((await summary()).budget_per_second).toEqual({ create: 3, update: 3, delete: 3, tag: 3 });
    const m = new Scrape((await t.call('GET', '/v1/sys/metrics?format=prometheus')).body);
    expect(m.value('ferry_sync_write_budget', { destination_type: 'aws-sm', destination: 'd', quota_group: 'create' })).toBe(3);
    for (let step = 1; step <= 4; step++) {
      t.clock.advance(350);
      await drain();
      expect(created()).toBe(1 + step);
    }
    expect(awsCurrent('s4')).toBe(JSON.stringify({ v: 4 }));
    // Raised again: the next round's bucket grows to the new rate.
    await patch({ write_budget_per_second: 48 });
    await drain(1);
    expect((await summary()).budget_per_second).toEqual({ create: 48, update: 48, delete: 48, tag: 48 });
  });

  it('keeps a throttled group at its share of a new rate', async () => {
    await put('a', { v: 1 });
    await associate('a');
    t.emu.injectFault({ kind: 'throttle', operation: 'CreateSecret', count: 1 });
    await drain(1);
    expect((await summary()).budget_per_second.create).toBe(22.5);
    await patch({ write_budget_per_second: 10 });
    await drain(1);
    expect((await summary()).budget_per_second).toMatchObject({ create: 5, update: 10 });
  });

  it('refuses anything but a whole number of calls per second from 1 to 10000 with a 400, changing nothing; DELETE resets it to 45', async () => {
    await patch({ write_budget_per_second: 48 });
    for (const bad of [0, -5, 10_001, 1.5, 'fast', '']) {
      const res = await patch({ write_budget_per_second: bad });
      expect(res.statusCode, String(bad)).toBe(400);
      expect(res.json().errors[0], String(bad)).toMatch(/write_budget_per_second/);
    }
    expect((await t.call('GET', '/v1/sys/sync/config')).json().data.write_budget_per_second).toBe(48);
    await t.call('DELETE', '/v1/sys/sync/config');
    expect((await t.call('GET', '/v1/sys/sync/config')).json().data.write_budget_per_second).toBe(45);
  });
});

describe('associations/retry', () => {
  async function deniedDestination(): Promise<string> {
    const deny = { Version: '2012-10-17', Statement: [{ Effect: 'Deny', Action: 'secretsmanager:*', Resource: '*' }] };
    const { arn, keys } = syncIdentity(t.emu, 'sync-denied', { deny });
    await t.call('PUT', '/v1/sys/sync/destinations/aws-sm/locked', { body: emulatorDestination(t.emu, keys) });
    return arn;
  }

  it('re-queues the failed associations at once with their attempts reset, with a narrow token; refuses bad input with a 4xx and changes nothing', async () => {
    const principal = await deniedDestination();
    for (const s of ['a', 'b']) {
      await put(s, { s });
      await associate(s, 'locked');
    }
    await drain();
    expect((await entry('a', 'locked')).sync_status).toBe('CLIENT_SIDE_ERROR');
    expect((await entry('a', 'locked')).last_error).toMatch(/AccessDenied/);
    t.emu.deleteInlinePolicy(principal, 'deny');
    // A final failure is not retried on its own.
    t.clock.advance(60_000);
    await drain();
    expect((await entry('a', 'locked')).sync_status).toBe('CLIENT_SIDE_ERROR');

    const operator = await tokenWithPolicy(t, 'sync-retry', 'path "sys/sync/destinations/aws-sm/locked/associations/retry" { capabilities = ["update"] }');
    const reader = await tokenWithPolicy(t, 'sync-reader', 'path "sys/sync/destinations/aws-sm/locked/associations" { capabilities = ["read"] }');
    expect((await t.call('POST', '/v1/sys/sync/destinations/aws-sm/locked/associations/retry', { token: reader, body: {} })).statusCode).toBe(403);
    const bad: Array<[Record<string, unknown>, number, RegExp]> = [
      [{ mount: 'my-kv' }, 400, /missing required field "secret_name"/],
      [{ secret_name: 'a' }, 400, /missing required field "mount"/],
      [{ mount: 'nope', secret_name: 'a' }, 400, /mount "nope\/" not found/],
      [{ mount: 'my-kv', secret_name: 'zzz' }, 400, /secret "zzz" of mount my-kv\/ is not associated with destination "aws-sm\/locked"/],
      [{ mount: ['x'], secret_name: 'a' }, 400, /mount/],
    ];
    const pendingBefore = (await t.server.core.store.pendingOutbox('sync')).length;
    for (const [body, status, text] of bad) {
      const res = await t.call('POST', '/v1/sys/sync/destinations/aws-sm/locked/associations/retry', { token: operator, body });
      expect(res.statusCode, JSON.stringify(body)).toBe(status);
      expect(res.json().errors.join(' ')).toMatch(text);
    }
    expect((await t.call('POST', '/v1/sys/sync/destinations/aws-sm/gone/associations/retry', { token: operator, body: {} })).statusCode).toBe(403);
    expect((await t.call('POST', '/v1/sys/sync/destinations/aws-sm/gone/associations/retry', { body: {} })).statusCode).toBe(404);
    expect((await t.server.core.store.pendingOutbox('sync')).length).toBe(pendingBefore);

    const one = await t.call('POST', '/v1/sys/sync/destinations/aws-sm/locked/associations/retry', { token: operator, body: { mount: 'my-kv', secret_name: 'a' } });
    expect(one.statusCode).toBe(200);
    expect(one.json().data).toMatchObject({ retried: 1, store_name: 'locked', store_type: 'aws-sm' });
    expect(one.json().data.associated_secrets[`${accessor()}/a`]).toMatchObject({ attempts: 0 });
    await drain();
    expect((await entry('a', 'locked')).sync_status).toBe('SYNCED');
    expect((await entry('b', 'locked')).sync_status).toBe('CLIENT_SIDE_ERROR');
    const all = await t.call('POST', '/v1/sys/sync/destinations/aws-sm/locked/associations/retry', { token: operator, body: {} });
    expect(all.json().data.retried).toBe(1);
    await drain();
    expect((await entry('b', 'locked')).sync_status).toBe('SYNCED');
    expect((await t.call('POST', '/v1/sys/sync/destinations/aws-sm/locked/associations/retry', { token: operator, body: {} })).json().data.retried).toBe(0);
  });
});

describe('sync log lines', () => {
  const lines: string[] = [];
  const logged = perTest(
    'a sync server with a captured log',
    async () => {
      lines.length = 0;
      const clock = manualClock();
      const emu = await startAwsEmulator({ clock });
      const sink = new Writable({
        write(chunk, _e, cb) {
          lines.push(chunk.toString());
          cb();
        },
      });
      const server = await startTestServer({ clock, logger: createLogger('debug', sink as never, 'json'), syncWorker: { start: false } });
      const closeServer = server.close;
      return Object.assign(server, {
        emu,
        clock,
        close: async () => {
          await closeServer();
          await emu.close();
        },
      }) as SyncTestServer;
    },
    (s) => s.close(),
  );

  it('name the destination, mount and secret path, never the value, and warn once per change of cause rather than per retry', async () => {
    const s = logged;
    await s.call('POST', '/v1/sys/mounts/my-kv', { body: { type: 'kv-v2' } });
    await s.call('PUT', '/v1/sys/sync/destinations/aws-sm/d', { body: emulatorDestination(s.emu) });
    await s.call('PUT', '/v1/my-kv/data/team/db', { body: { data: { password: 'LOG-VALUE-MARKER-991' } } });
    await s.call('PUT', '/v1/sys/sync/destinations/aws-sm/d/associations/set', { body: { mount: 'my-kv', secret_name: 'team/db' } });
    s.emu.injectFault({ kind: 'throttle', operation: 'CreateSecret', count: 6 });
    for (let i = 0; i < 6; i++) {
      await s.server.sync.worker.drainOnce();
      s.clock.advance(1000);
    }
    s.emu.injectFault({ kind: 'reset', operation: 'CreateSecret', count: 1 });
    await s.server.sync.worker.drainOnce();
    for (let i = 0; i < 3; i++) {
      s.clock.advance(1000);
      await s.server.sync.worker.drainOnce();
    }
    const records = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    const failed = records.filter((r) => r.msg === 'sync delivery failed');
    // One line for the throttling, one for the connection reset: not one per retry.
    expect(failed.map((r) => r.error)).toEqual([expect.stringMatching(/ThrottlingException/), expect.stringMatching(/ECONNRESET/)]);
    expect(failed[0]).toMatchObject({ level: 40, destination: 'aws-sm/d', mount: 'my-kv/', secret_path: 'team/db', status: 'PENDING', external_name: expect.stringContaining('/team/db') });
    expect(records.filter((r) => r.msg === 'sync delivery recovered')).toHaveLength(1);
    expect(lines.join('')).not.toContain('LOG-VALUE-MARKER-991');
  });

  it('say PENDING, as the association does, when the update of a synced secret fails', async () => {
    const s = logged;
    await s.call('POST', '/v1/sys/mounts/my-kv', { body: { type: 'kv-v2' } });
    await s.call('PUT', '/v1/sys/sync/destinations/aws-sm/d', { body: emulatorDestination(s.emu) });
    await s.call('PUT', '/v1/my-kv/data/app', { body: { data: { v: 1 } } });
    await s.call('PUT', '/v1/sys/sync/destinations/aws-sm/d/associations/set', { body: { mount: 'my-kv', secret_name: 'app' } });
    await s.server.sync.worker.drainOnce();
    s.clock.advance(1000);
    await s.call('PUT', '/v1/my-kv/data/app', { body: { data: { v: 2 } } });
    s.emu.injectFault({ kind: 'throttle', operation: 'UpdateSecret', count: 1 });
    await s.server.sync.worker.drainOnce();
    const shown = Object.values<any>((await s.call('GET', '/v1/sys/sync/destinations/aws-sm/d/associations')).json().data.associated_secrets)[0];
    expect(shown).toMatchObject({ sync_status: 'PENDING', last_error: expect.stringMatching(/ThrottlingException/) });
    const failed = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((r) => r.msg === 'sync delivery failed');
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ secret_path: 'app', status: 'PENDING', error: expect.stringMatching(/ThrottlingException/) });
  });
});

describe("sync's metrics after a scripted workload", () => {
  it('show every sync metric with the values the workload implies: n writes, one throttled answer, one final failure, one drift repair, one STS refresh', async () => {
    // A second destination acting through AssumeRole (STS), and a third whose key AWS does not know (a final failure).
    const role = t.emu.registerRole({ roleName: 'ferry-assumed', trust: { principalAccount: '123456789012' } }).arn;
    await t.call('PUT', '/v1/sys/sync/destinations/aws-sm/assumed', { body: emulatorDestination(t.emu, { role_arn: role }) });
    await t.call('PUT', '/v1/sys/sync/destinations/aws-sm/broken', { body: emulatorDestination(t.emu, { access_key_id: 'not-a-key' }) });
    await t.call('PATCH', '/v1/sys/sync/config', { body: { reconcile_interval: '1s' }, headers: { 'content-type': 'application/merge-patch+json' } });
    const n = 4;
    for (let i = 0; i < n; i++) {
      await put(`s${i}`, { i });
      await associate(`s${i}`);
    }
    await put('r', { r: 1 });
    await associate('r', 'assumed');
    await associate('r', 'broken');
    t.emu.injectFault({ kind: 'throttle', operation: 'CreateSecret', count: 1 });
    await drain();
    t.clock.advance(1000);
    await drain();
    // The n writes: a second version of each.
    for (let i = 0; i < n; i++) await put(`s${i}`, { i, again: true });
    t.clock.advance(1000);
    await drain();
    // One out-of-band change, found by the next pass and undone.
    await outOfBandClient(t.emu).send(new PutSecretValueCommand({ SecretId: awsName('s0'), SecretString: 'tampered' }));
    t.clock.advance(1000);
    await drain();
    expect(awsCurrent('s0')).toBe(JSON.stringify({ i: 0, again: true }));

    const res = await t.call('GET', '/v1/sys/metrics?format=prometheus');
    const m = new Scrape(res.body);
    const d = { destination_type: 'aws-sm', destination: 'd' };
    // n creates (one throttled, retried), n updates, one repair write.
    expect(m.value('ferry_sync_deliveries_total', { ...d, result: 'success' })).toBe(2 * n + 1);
    expect(m.value('ferry_sync_deliveries_total', { ...d, result: 'retry' })).toBe(1);
    expect(m.value('ferry_sync_deliveries_total', { ...d, result: 'failed' })).toBe(0);
    expect(m.value('ferry_sync_deliveries_total', { destination: 'broken', result: 'failed' })).toBe(1);
    expect(m.value('ferry_sync_aws_calls_total', { ...d, operation: 'CreateSecret', code: 'ok' })).toBe(n);
    expect(m.value('ferry_sync_aws_calls_total', { ...d, operation: 'CreateSecret', code: 'ThrottlingException' })).toBe(1);
    expect(m.value('ferry_sync_aws_calls_total', { ...d, operation: 'UpdateSecret', code: 'ok' })).toBe(n + 1);
    expect(m.value('ferry_sync_aws_calls_total', { ...d, operation: 'ListSecrets', code: 'ok' })).toBeGreaterThanOrEqual(1);
    expect(m.value('ferry_sync_aws_calls_total', { ...d, operation: 'DescribeSecret', code: 'ok' })).toBe(1);
    expect(m.value('ferry_sync_aws_calls_total', { destination: 'broken', operation: 'CreateSecret', code: 'UnrecognizedClientException' })).toBe(1);
    expect(m.value('ferry_sync_throttled_total', { ...d, operation: 'CreateSecret' })).toBe(1);
    expect(m.value('ferry_sync_drift_repairs_total', { ...d, kind: 'value' })).toBe(1);
    expect(m.value('ferry_sync_sts_refreshes_total', { destination: 'assumed', result: 'success' })).toBe(1);
    expect(m.value('ferry_sync_aws_calls_total', { destination: 'assumed', operation: 'AssumeRole', code: 'ok' })).toBe(1);
    // The throttling answer halved the create budget; successes regrew it by a twentieth each.
    expect(m.value('ferry_sync_write_budget', { ...d, quota_group: 'create' })).toBe(Math.min(45, 22.5 + (n - 0) * 2.25));
    expect(m.value('ferry_sync_write_budget', { ...d, quota_group: 'delete' })).toBe(45);
    expect(m.value('ferry_sync_queue_depth', d)).toBe(0);
    expect(m.value('ferry_sync_oldest_pending_seconds', d)).toBe(0);
    const latency = m.series('ferry_sync_delivery_duration_seconds', d)!;
    expect(latency.count).toBe(2 * n + 1);
    // Vault's JSON form carries the same counters.
    const json = (await t.call('GET', '/v1/sys/metrics')).json();
    const repairs = json.Counters.find((c: any) => c.Name === 'ferry_sync_drift_repairs_total' && c.Labels.destination === 'd');
    expect(repairs).toMatchObject({ Count: 1 });
    // Names and counts only: no value, no credential.
    expect(res.body).not.toContain('tampered');
    expect(res.body).not.toContain('again');
    expect(res.body).not.toContain('AKIA');
  });

  it('shows a queue and its oldest pending change while work waits, and the budget shrinking under throttling', async () => {
    await t.call('PATCH', '/v1/sys/sync/config', { body: { disabled: true }, headers: { 'content-type': 'application/merge-patch+json' } });
    await put('a', { v: 1 });
    await associate('a');
    await put('b', { v: 1 });
    await associate('b');
    await drain();
    t.clock.advance(12_000);
    let m = new Scrape((await t.call('GET', '/v1/sys/metrics?format=prometheus')).body);
    const d = { destination_type: 'aws-sm', destination: 'd' };
    expect(m.value('ferry_sync_queue_depth', d)).toBe(2);
    expect(m.value('ferry_sync_oldest_pending_seconds', d)).toBe(12);
    await t.call('PATCH', '/v1/sys/sync/config', { body: { disabled: false }, headers: { 'content-type': 'application/merge-patch+json' } });
    // Three congestions: in each round both calls are throttled, which cuts the rate once (the
    // second call was sent before the cut); the third cut in a row parks the destination.
    t.emu.injectFault({ kind: 'throttle', operation: 'CreateSecret', count: 6 });
    for (let i = 0; i < 3; i++) {
      await t.server.sync.worker.drainOnce();
      t.clock.advance(1000);
    }
    m = new Scrape((await t.call('GET', '/v1/sys/metrics?format=prometheus')).body);
    expect(m.value('ferry_sync_write_budget', { ...d, quota_group: 'create' })).toBeLessThan(45 / 4);
    expect(m.value('ferry_sync_throttled_total', { ...d, operation: 'CreateSecret' })).toBe(6);
    expect((await summary()).aws).toMatchObject({ state: 'throttled', throttled_answers: 6 });
    t.clock.advance(2000);
    await drain();
    expect((await summary()).aws.state).toBe('ok');
    expect((await summary()).sync_status_counts).toEqual({ SYNCED: 2 });
  });

  it('count the queue for a scrape and a summary from its order keys, reading and decrypting no queued operation', async () => {
    await t.call('PATCH', '/v1/sys/sync/config', { body: { disabled: true }, headers: { 'content-type': 'application/merge-patch+json' } });
    await put('a', { v: 1 });
    await associate('a');
    await drain(1);
    t.clock.advance(5_000);
    // KV changes join the operation that waits for their association; a re-set queues one of its own.
    for (let i = 2; i <= 4; i++) await put('a', { v: i });
    await associate('a');
    await associate('a');
    await put('b', { v: 1 });
    await associate('b');
    await drain(1);
    t.clock.advance(3_000);
    // Four operations queued for two associations; the scrape (maybe anyone's) and the summary must not read them one by one.
    const store = t.server.core.store;
    expect((await store.pendingOutbox('sync')).length).toBe(4);
    const reads = vi.spyOn(store, 'pendingOutbox');
    const m = new Scrape((await t.call('GET', '/v1/sys/metrics?format=prometheus')).body);
    const d = { destination_type: 'aws-sm', destination: 'd' };
    expect(m.value('ferry_sync_queue_depth', d)).toBe(2);
    expect(m.value('ferry_sync_oldest_pending_seconds', d)).toBe(8);
    expect(await summary()).toMatchObject({ queue_depth: 2, oldest_pending_seconds: 8 });
    expect(reads).not.toHaveBeenCalled();
  });
});
