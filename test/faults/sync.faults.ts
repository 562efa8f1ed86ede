/**
 * The sync fault suite (`npm run test:faults`; `FERRY_FAULTS=bounded` for CI's shorter form).
 * Each scenario runs Ferry's delivery worker on its own timers against the AWS emulator under
 * write load, injects a fault, and ends with the invariant check: every association holds its
 * secret's latest KV value and Ferry's tags in AWS (0 lost updates), no KV version became two AWS
 * versions (0 duplicates), and no association is left failed once the fault passed. Each prints
 * its counts. Wall-clock waits are the point here (outages, windows): this is not the unit suite.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/app.js';
import { startAwsEmulator, type AwsEmulator } from '../support/aws-emulator/index.js';
import { tempDirForTest } from '../support/fixtures.js';
import { freeLoopbackPort, runFerry, type RunningProcess } from '../support/process.js';
import {
  converged as convergedOn,
  expectClean as expectCleanIn,
  invariants,
  overHttp,
  setUpSync,
  writeLoad as writeLoadOn,
  type Counts,
  type Target,
} from '../support/sync-invariants.js';
import { emulatorDestination } from '../support/sync.js';

const BOUNDED = process.env.FERRY_FAULTS === 'bounded';
const SCALE = BOUNDED
  ? { secrets: 12, writesPerSecond: 20, outageMs: 10_000, throttleMs: 20_000, kills: 3, loadMs: 5_000 }
  : { secrets: 30, writesPerSecond: 40, outageMs: 30_000, throttleMs: 20_000, kills: 10, loadMs: 10_000 };
const report: string[] = [];
afterAll(() => {
  process.stdout.write(`\nsync fault suite (${BOUNDED ? 'bounded' : 'full'}):\n${report.map((l) => `  ${l}`).join('\n')}\n`);
});

function inProcess(t: TestServer): Target {
  return {
    call: async (method, p, body) => {
      const res = await t.call(method, `/v1/${p}`, body === undefined ? {} : { body });
      return { status: res.statusCode, body: res.body ? res.json() : undefined };
    },
  };
}

const names = Array.from({ length: SCALE.secrets }, (_, i) => `app/s${i}`);

const setUp = (target: Target, emu: AwsEmulator, destination?: Record<string, unknown>) => setUpSync(target, emu, names, destination);
const writeLoad = (target: Target, rate = SCALE.writesPerSecond) => writeLoadOn(target, names, rate);

/** Waits until every association holds its latest value; answers when that was (ms epoch). */
const converged = (target: Target, emu: AwsEmulator, timeoutMs = 60_000) => convergedOn(target, emu, names.length, timeoutMs);

function expectClean(scenario: string, counts: Counts, extra = '') {
  expectCleanIn(report, scenario, names.length, counts, extra);
}

async function withServer(fn: (t: TestServer, emu: AwsEmulator) => Promise<void>, storagePath = ':memory:') {
  const emu = await startAwsEmulator();
  const t = await startTestServer({ storagePath, syncWorker: { start: true } });
  try {
    await fn(t, emu);
  } finally {
    await t.close();
    await emu.close();
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('sync under faults', () => {
  it(`an AWS outage of ${SCALE.outageMs / 1000} s under write load`, async () => {
    await withServer(async (t, emu) => {
      const target = inProcess(t);
      await setUp(target, emu);
      await converged(target, emu);
      const load = writeLoad(target);
      await sleep(1000);
      const recoveredAt = Date.now() + SCALE.outageMs;
      emu.injectFault({ kind: 'refuse', untilMs: recoveredAt });
      await sleep(SCALE.outageMs);
      const writes = await load.stop();
      const at = await converged(target, emu);
      expectClean('outage', await invariants(target, emu), `; ${writes.accepted} KV writes; converged ${at - recoveredAt} ms after AWS came back`);
    });
  }, 120_000);

  it(`a throttling storm of ${SCALE.throttleMs / 1000} s: converged within 2 s of AWS's recovery`, async () => {
    await withServer(async (t, emu) => {
      const target = inProcess(t);
      await setUp(target, emu);
      await converged(target, emu);
      const load = writeLoad(target);
      const recoveredAt = Date.now() + SCALE.throttleMs;
      emu.injectFault({ kind: 'throttle', untilMs: recoveredAt });
      await sleep(SCALE.throttleMs);
      const writes = await load.stop();
      const at = await converged(target, emu);
      const recovery = at - recoveredAt;
      const throttled = emu.requestLog({ errorCode: 'ThrottlingException' }).length;
      expectClean('throttling storm', await invariants(target, emu), `; ${writes.accepted} KV writes, ${throttled} throttled answers; last pending delivery ${recovery} ms after AWS's recovery`);
      expect(recovery).toBeLessThan(2000);
    });
  }, 120_000);

  it('connection resets (some after AWS applied the call) and slow answers', async () => {
    await withServer(async (t, emu) => {
      const target = inProcess(t);
      await setUp(target, emu);
      await converged(target, emu);
      const load = writeLoad(target);
      for (let i = 0; i < 5; i++) {
        emu.injectFault({ kind: 'reset', count: 3, applyBeforeReset: i % 2 === 0 });
        emu.injectFault({ kind: 'latency', latencyMs: 1500, count: 3 });
        await sleep(SCALE.loadMs / 5);
      }
      const writes = await load.stop();
      await converged(target, emu);
      const resets = emu.requestLog().filter((e) => e.errorCode === 'ConnectionReset').length;
      expectClean('resets and slow answers', await invariants(target, emu), `; ${writes.accepted} KV writes, ${resets} reset connections`);
    });
  }, 120_000);

  it('STS refusing for a while (a destination that assumes a role)', async () => {
    await withServer(async (t, emu) => {
      const target = inProcess(t);
      const role = emu.registerRole({ roleName: 'ferry-faults', trust: { principalAccount: '123456789012' } }).arn;
      const recoveredAt = Date.now() + SCALE.loadMs;
      emu.injectFault({ kind: '500', operation: 'AssumeRole', untilMs: recoveredAt });
      await setUp(target, emu, emulatorDestination(emu, { role_arn: role, custom_tags: { team: 'faults' } }));
      const load = writeLoad(target);
      await sleep(SCALE.loadMs);
      const writes = await load.stop();
      const at = await converged(target, emu);
      const refusals = emu.requestLog({ operation: 'AssumeRole' }).filter((e) => e.status >= 500).length;
      expectClean('STS refusing', await invariants(target, emu), `; ${writes.accepted} KV writes, ${refusals} STS refusals; converged ${Math.max(0, at - recoveredAt)} ms after STS came back`);
    });
  }, 120_000);

  it('the database busy (commits, claims and settles refused for moments) under load', async () => {
    const dir = tempDirForTest('ferry-faults-db-');
    await withServer(async (t, emu) => {
      const target = inProcess(t);
      await setUp(target, emu);
      await converged(target, emu);
      const store = t.server.core.store as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
      let busy = false;
      let refusals = 0;
      for (const method of ['commit', 'claimOutbox', 'settleOutbox']) {
        const original = store[method]!.bind(store);
        store[method] = async (...args: unknown[]) => {
          if (busy) {
            refusals++;
            throw Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' });
          }
          return original(...args);
        };
      }
      const load = writeLoad(target);
      for (let i = 0; i < 5; i++) {
        busy = true;
        await sleep(300);
        busy = false;
        await sleep(SCALE.loadMs / 5 - 300);
      }
      const writes = await load.stop();
      // A delivery whose settle was refused waits for its lease (30 s) at most.
      await converged(target, emu, 60_000);
      expectClean('database busy', await invariants(target, emu), `; ${writes.accepted} KV writes accepted, ${writes.refused} refused, ${refusals} store calls refused`);
    }, path.join(dir, 'ferry.db'));
  }, 120_000);

  it(`the server killed with SIGKILL at random moments under load and restarted, ${SCALE.kills} times`, async () => {
    const emu = await startAwsEmulator();
    const dir = tempDirForTest('ferry-faults-kill-');
    const port = await freeLoopbackPort();
    const url = `http://127.0.0.1:${port}`;
    const config = path.join(dir, 'ferry.hcl');
    fs.writeFileSync(
      config,
      `listener "tcp" {\n  address = "127.0.0.1:${port}"\n  tls_disable = true\n}\nstorage "sqlite" {\n  path = "${dir}/ferry.db"\n}\napi_addr = "${url}"\nlog_level = "error"\n`,
    );
    let proc: RunningProcess | undefined;
    const start = async () => {
      proc = runFerry(['server', `-config=${config}`]);
      await proc.waitFor(/Ferry server started/, 30_000);
    };
    try {
      await start();
      const anonymous = overHttp(url, '');
      const init = await anonymous.call('PUT', 'sys/init', { secret_shares: 1, secret_threshold: 1 });
      const key: string = init.body.keys[0];
      const target = overHttp(url, init.body.root_token);
      await anonymous.call('PUT', 'sys/unseal', { key });
      await setUp(target, emu);
      let kills = 0;
      let accepted = 0;
      for (let i = 0; i < SCALE.kills; i++) {
        const load = writeLoad(target);
        await sleep(300 + Math.floor(Math.random() * 1200));
        proc!.child.kill('SIGKILL');
        await proc!.exited;
        kills++;
        accepted += (await load.stop()).accepted;
        await start();
        await anonymous.call('PUT', 'sys/unseal', { key });
      }
      await converged(target, emu, 90_000);
      expectClean('SIGKILL and restart', await invariants(target, emu), `; ${kills} kills, ${accepted} KV writes accepted`);
    } finally {
      await proc?.stop();
      await emu.close();
    }
  }, 300_000);
});
