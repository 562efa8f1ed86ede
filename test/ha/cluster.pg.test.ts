/**
 * Three `ferry server` processes on one PostgreSQL database, HA enabled: election, forwarding,
 * health codes, step-down, the active node SIGKILLed under write load with sync running, and
 * PostgreSQL restarted under load. One cluster for the file (starting processes is what costs);
 * the tests run in order and each leaves the cluster settled for the next.
 */
import vault from 'node-vault';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAwsEmulator, type AwsEmulator } from '../support/aws-emulator/index.js';
import { waitUntil } from '../support/process.js';
import { converged, expectClean, invariants, setUpSync, writeLoad, type Target } from '../support/sync-invariants.js';
import { haTestDatabase } from './database.js';
import { startHaCluster, type HaCluster } from './support.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const db = await haTestDatabase();
const report: string[] = [];
const names = Array.from({ length: 8 }, (_, i) => `app/s${i}`);

describe.skipIf(!db)('HA: three nodes on one PostgreSQL', () => {
  let cluster: HaCluster;
  let emu: AwsEmulator;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ferry-ha-'));
    emu = await startAwsEmulator();
    cluster = await startHaCluster({ size: 3, connectionUrl: db!.url, dir });
  }, 120_000);

  afterAll(async () => {
    await cluster?.stop();
    await emu?.close();
    await db?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
    process.stdout.write(`\nHA cluster (3 nodes, PostgreSQL):\n${report.map((l) => `  ${l}`).join('\n')}\n`);
  });

  const standbys = (active: number) => cluster.nodes.map((n) => n.index).filter((i) => i !== active);

  it('exactly one node is active; every node names it; standbys answer sys/health 429 (200 with standbyok), the active node 200', async () => {
    const active = await cluster.settled();
    expect(await cluster.activeNodes()).toEqual([active]);
    const leader = (await cluster.nodes[standbys(active)[0]!]!.anonymous.call('GET', 'sys/leader')).body;
    expect(leader).toEqual({
      ha_enabled: true,
      is_self: false,
      active_time: '0001-01-01T00:00:00Z',
      leader_address: cluster.nodes[active]!.url,
      leader_cluster_address: cluster.nodes[active]!.clusterUrl,
      performance_standby: false,
      performance_standby_last_remote_wal: 0,
    });
    const own = (await cluster.nodes[active]!.anonymous.call('GET', 'sys/leader')).body;
    expect(own.is_self).toBe(true);
    expect(Date.parse(own.active_time)).toBeGreaterThan(Date.now() - 120_000);
    expect((await cluster.nodes[active]!.anonymous.call('GET', 'sys/health')).status).toBe(200);
    for (const i of standbys(active)) {
      // The standby's link to the active node is up once its first echo answered.
      const health = await waitUntil(`node ${i} to answer 429`, async () => {
        const res = await cluster.nodes[i]!.anonymous.call('GET', 'sys/health');
        return res.status === 429 ? res : undefined;
      });
      expect(health.body).toMatchObject({ initialized: true, sealed: false, standby: true, ha_connection_healthy: true });
      expect((await cluster.nodes[i]!.anonymous.call('GET', 'sys/health?standbyok=true')).status).toBe(200);
      expect((await cluster.nodes[i]!.anonymous.call('GET', 'sys/health?standbycode=472')).status).toBe(472);
    }
    const status = await cluster.client(standbys(active)[1]!).call('GET', 'sys/ha-status');
    expect(status.status).toBe(200);
    const nodes = status.body.data.nodes as Array<Record<string, unknown>>;
    expect(nodes.map((n) => n.api_address).sort()).toEqual(cluster.nodes.map((n) => n.url).sort());
    expect(nodes.filter((n) => n.active_node).map((n) => n.api_address)).toEqual([cluster.nodes[active]!.url]);
    expect(nodes.find((n) => n.active_node)!.last_echo).toBeNull();
  });

  it('a standby that cannot reach the active node answers sys/health 474 (haunhealthycode to change it), and 429 again once it can', async () => {
    const active = await cluster.settled();
    const standby = cluster.nodes[standbys(active)[0]!]!;
    // Frozen, the active node keeps its database session (and so the lock) but answers no echo.
    cluster.nodes[active]!.proc!.child.kill('SIGSTOP');
    try {
      const unhealthy = await waitUntil('the standby to answer 474', async () => {
        const res = await standby.anonymous.call('GET', 'sys/health');
        return res.status === 474 ? res : undefined;
      });
      expect(unhealthy.body).toMatchObject({ standby: true, ha_connection_healthy: false });
      expect((await standby.anonymous.call('GET', 'sys/health?haunhealthycode=200')).status).toBe(200);
    } finally {
      cluster.nodes[active]!.proc!.child.kill('SIGCONT');
    }
    await waitUntil('the standby to answer 429 again', async () => (await standby.anonymous.call('GET', 'sys/health')).status === 429);
    expect(await cluster.settled()).toBe(active);
  });

  it('a frozen active node (SIGSTOP: its socket open, its process not running) loses leadership; resumed, it is a standby', async () => {
    // Review #19: the advisory lock lived as long as the lock's TCP session, which the kernel keeps
    // up for a stopped or hung process: no standby ever took over and every standby answered 474
    // (forwarded requests waited on the frozen node) until it was resumed. The lock session now
    // has an idle timeout on PostgreSQL's side, so a node that stops asking loses the lock.
    const before = await cluster.settled();
    const others = standbys(before);
    const frozenAt = Date.now();
    cluster.nodes[before]!.proc!.child.kill('SIGSTOP');
    let after = -1;
    try {
      after = await waitUntil(
        'a standby to become active while the active node is frozen',
        async () => {
          for (const i of others) {
            const res = await cluster.nodes[i]!.anonymous.call('GET', 'sys/leader');
            if (res.body?.is_self === true) return i + 1;
          }
          return undefined;
        },
        { timeoutMs: 20_000, intervalMs: 100 },
      ) - 1;
      report.push(`SIGSTOP of the active node ${before}: node ${after} active ${Date.now() - frozenAt} ms later`);
      expect(Date.now() - frozenAt).toBeLessThan(15_000);
      // The other standby forwards to the new active node once it has read the new leader record.
      const via = cluster.client(others.find((i) => i !== after)!);
      await waitUntil('a write through the other standby', async () => (await via.call('PUT', 'sys/policies/acl/frozen', { policy: 'path "x" { capabilities = ["read"] }' })).status === 204, { timeoutMs: 5_000 });
    } finally {
      cluster.nodes[before]!.proc!.child.kill('SIGCONT');
    }
    expect(await cluster.settled()).toBe(after);
    await waitUntil(`node ${before} to be a standby`, async () => (await cluster.nodes[before]!.anonymous.call('GET', 'sys/health')).status === 429);
  }, 60_000);

  it('sys/seal on a standby seals that node only (it leaves the election, the active node keeps serving); unsealed, it is a standby again', async () => {
    const active = await cluster.settled();
    const i = standbys(active)[0]!;
    const node = cluster.nodes[i]!;
    expect((await cluster.client(i).call('PUT', 'sys/seal')).status).toBe(204);
    expect((await node.anonymous.call('GET', 'sys/health')).status).toBe(503);
    expect((await node.anonymous.call('GET', 'sys/seal-status')).body.sealed).toBe(true);
    expect((await cluster.client(i).call('GET', 'sys/ha-status')).status).toBe(503);
    expect((await cluster.nodes[active]!.anonymous.call('GET', 'sys/seal-status')).body.sealed).toBe(false);
    expect(await cluster.settled()).toBe(active);
    await cluster.unseal(i);
    await waitUntil(`node ${i} to be a healthy standby again`, async () => (await node.anonymous.call('GET', 'sys/health')).status === 429);
  });

  it('sealing the active node hands leadership to a standby at once; unsealed, the old one rejoins as a standby', async () => {
    const before = await cluster.settled();
    const sealedAt = Date.now();
    expect((await cluster.client(before).call('PUT', 'sys/seal')).status).toBe(204);
    const after = await cluster.settled();
    report.push(`seal of the active node ${before}: node ${after} active ${Date.now() - sealedAt} ms later`);
    expect(after).not.toBe(before);
    await cluster.unseal(before);
    await waitUntil(`node ${before} to be a healthy standby`, async () => (await cluster.nodes[before]!.anonymous.call('GET', 'sys/health')).status === 429);
    expect(await cluster.settled()).toBe(after);
  });

  it('a write through any node is visible through every node (standbys forward), a LIST and a narrow-policy token included', async () => {
    const first = cluster.client(0);
    expect((await first.call('POST', 'sys/mounts/shared', { type: 'kv-v2' })).status).toBe(204);
    for (const [i, n] of cluster.nodes.entries()) {
      expect((await cluster.client(i).call('PUT', `shared/data/from-${i}`, { data: { via: n.url } })).status).toBe(200);
    }
    expect(
      (await first.call('PUT', 'sys/policies/acl/reader', { policy: 'path "shared/data/*" { capabilities = ["read"] }\npath "shared/metadata/*" { capabilities = ["list"] }' }))
        .status,
    ).toBe(204);
    const token = (await cluster.client(1).call('POST', 'auth/token/create', { policies: ['reader'] })).body.auth.client_token as string;
    for (const [i, n] of cluster.nodes.entries()) {
      const reader: Target = { call: (m, p, b) => fetch(`${n.url}/v1/${p}`, { method: m, headers: { 'X-Vault-Token': token }, ...(b ? { body: JSON.stringify(b) } : {}) }).then(async (r) => ({ status: r.status, body: await r.json().catch(() => undefined) })) };
      for (let j = 0; j < cluster.nodes.length; j++) {
        const res = await reader.call('GET', `shared/data/from-${j}`);
        expect(res.status, `read of from-${j} through node ${i}`).toBe(200);
        expect(res.body.data.data).toEqual({ via: cluster.nodes[j]!.url });
      }
      expect((await reader.call('LIST', 'shared/metadata/')).body.data.keys).toEqual(['from-0', 'from-1', 'from-2']);
      // The narrow token may not write, through any node.
      expect((await reader.call('PUT', 'shared/data/x', { data: { a: 1 } })).status).toBe(403);
    }
  });

  it('a token revoked through the active node no longer works for what a standby answers itself (sys/metrics; sys/seal alike)', async () => {
    // Review #19: a standby answers sys/metrics and sys/seal with its own token store and
    // policies, whose in-memory copies are reloaded only when the node becomes active: a token
    // (or policy) revoked through the active node stayed good on a standby that had used it.
    const active = await cluster.settled();
    const s = standbys(active)[0]!;
    const root = cluster.client(active);
    expect((await root.call('PUT', 'sys/policies/acl/metrics-reader', { policy: 'path "sys/metrics" { capabilities = ["read"] }' })).status).toBe(204);
    const token = (await root.call('POST', 'auth/token/create', { policies: ['metrics-reader'] })).body.auth.client_token as string;
    const metrics = () => fetch(`${cluster.nodes[s]!.url}/v1/sys/metrics?format=prometheus`, { headers: { 'X-Vault-Token': token } }).then((r) => r.status);
    expect(await metrics()).toBe(200);
    expect((await root.call('POST', 'auth/token/revoke', { token })).status).toBe(204);
    expect(await metrics()).toBe(403);
    // A policy emptied through the active node is emptied on the standby too.
    const second = (await root.call('POST', 'auth/token/create', { policies: ['metrics-reader'] })).body.auth.client_token as string;
    const metrics2 = () => fetch(`${cluster.nodes[s]!.url}/v1/sys/metrics?format=prometheus`, { headers: { 'X-Vault-Token': second } }).then((r) => r.status);
    expect(await metrics2()).toBe(200);
    expect((await root.call('PUT', 'sys/policies/acl/metrics-reader', { policy: 'path "sys/nothing" { capabilities = ["read"] }' })).status).toBe(204);
    expect(await metrics2()).toBe(403);
  });

  it('a stock client (node-vault) pointed at a standby works: writes, reads, lists, status', async () => {
    const active = await cluster.settled();
    const client = vault({ endpoint: cluster.nodes[standbys(active)[0]!]!.url, token: cluster.rootToken });
    await client.write('shared/data/node-vault', { data: { via: 'node-vault' } });
    expect((await client.read('shared/data/node-vault')).data.data).toEqual({ via: 'node-vault' });
    expect((await client.list('shared/metadata/')).data.keys).toContain('node-vault');
    expect(await client.status()).toMatchObject({ initialized: true, sealed: false });
  });

  it('sys/step-down (through a standby) moves leadership to another node', async () => {
    const before = await cluster.settled();
    const via = standbys(before)[0]!;
    const res = await cluster.client(via).call('PUT', 'sys/step-down');
    expect(res.status).toBe(204);
    const after = await cluster.settled();
    expect(after).not.toBe(before);
    report.push(`step-down: node ${before} -> node ${after}`);
  });

  it('the active node SIGKILLed under steady write load with sync running: a standby is active within 15 s, and every association converges cleanly', async () => {
    await cluster.settled();
    const target = cluster.client(0);
    await setUpSync(target, emu, names);
    await converged(target, emu, names.length, 60_000);
    const active = await cluster.settled();
    // Only the active node runs the sync worker: the standbys (each node's own sys/metrics) made no AWS call.
    const awsCalls = async (i: number) => {
      const res = await fetch(`${cluster.nodes[i]!.url}/v1/sys/metrics?format=prometheus`, { headers: { 'X-Vault-Token': cluster.rootToken } });
      const text = await res.text();
      return [...text.matchAll(/^ferry_sync_aws_calls_total\{[^}]*\} (\d+)/gm)].reduce((sum, m) => sum + Number(m[1]), 0);
    };
    expect(await awsCalls(active)).toBeGreaterThan(0);
    for (const i of standbys(active)) expect(await awsCalls(i), `AWS calls made by standby node ${i}`).toBe(0);
    const survivor = standbys(active)[0]!;
    // Writes go through a node that survives (a standby, forwarding to whichever node is active).
    const load = writeLoad(cluster.client(survivor), names, 20);
    await new Promise((r) => setTimeout(r, 1500));
    const killedAt = Date.now();
    cluster.nodes[active]!.proc!.child.kill('SIGKILL');
    await cluster.nodes[active]!.proc!.exited;
    // (The index is wrapped: node 0 would read as "not yet".)
    const next = (await waitUntil('a standby to become active', async () => (await cluster.activeNodes()).map((index) => ({ index }))[0], { timeoutMs: 15_000, intervalMs: 20 }).catch(() => undefined))?.index;
    const failoverMs = Date.now() - killedAt;
    expect(next, `no standby was active within 15 s of the SIGKILL`).toBeDefined();
    await new Promise((r) => setTimeout(r, 2000));
    const writes = await load.stop();
    const line = `SIGKILL of the active node (node ${active}) under ${writes.accepted + writes.refused} writes at 20/s: node ${next} active after ${failoverMs} ms; statuses ${JSON.stringify(writes.statuses)}`;
    report.push(line);
    process.stdout.write(`\n${line}\n`);
    expect(failoverMs).toBeLessThan(15_000);
    expect(writes.statuses[500]).toBeUndefined();
    const reader = cluster.client(survivor);
    // Claims the killed node held are handed out again when their lease (30 s) lapses.
    const at = await converged(reader, emu, names.length, 90_000);
    // The new term released the dead node's claims at once: no waiting out their 30 s leases.
    expect(at - killedAt).toBeLessThan(20_000);
    expectClean(report, 'HA failover', names.length, await invariants(reader, emu), `; ${writes.accepted} KV writes acknowledged; converged ${at - killedAt} ms after the kill`);
    for (const [name, n] of writes.acknowledged) {
      expect((await reader.call('GET', `kv/data/${name}`)).body.data.data.n, `the acknowledged write of ${name}`).toBeGreaterThanOrEqual(n);
    }
    // The killed node rejoins as a standby.
    await cluster.nodes[active]!.start();
    await cluster.unseal(active);
    await cluster.settled();
  }, 180_000);

  it.skipIf(!db?.restart)('PostgreSQL restarted under load: requests answer 503 (never a 500 or a hang) and recover without restarting Ferry; nothing acknowledged is lost', async () => {
    const active = await cluster.settled();
    const clients = cluster.nodes.map((n) => cluster.client(n.index));
    expect((await clients[active]!.call('POST', 'sys/mounts/kv', { type: 'kv-v2' })).status).toBeLessThan(500);
    // Each client writes its own secrets, so that a secret's latest version is its client's last write.
    const loads = clients.map((c, i) => writeLoad(c, [0, 1, 2].map((k) => `restart/c${i}-${k}`), 10));
    await new Promise((r) => setTimeout(r, 1000));
    const restartedAt = Date.now();
    await db!.restart!();
    const back = await cluster.settled(30_000);
    const recoveredMs = Date.now() - restartedAt;
    await new Promise((r) => setTimeout(r, 1000));
    const outcomes = await Promise.all(loads.map((l) => l.stop()));
    const statuses: Record<number, number> = {};
    for (const o of outcomes) for (const [s, c] of Object.entries(o.statuses)) statuses[Number(s)] = (statuses[Number(s)] ?? 0) + c;
    const line = `PostgreSQL restarted under load (active was node ${active}): node ${back} active ${recoveredMs} ms after the restart began; statuses ${JSON.stringify(statuses)}`;
    report.push(line);
    process.stdout.write(`\n${line}\n`);
    for (const s of Object.keys(statuses).map(Number)) expect([200, 503]).toContain(s);
    // Every node answers again.
    for (const c of clients) expect((await c.call('GET', 'sys/ha-status')).status).toBe(200);
    const reader = clients[back]!;
    for (const o of outcomes) {
      for (const [name, n] of o.acknowledged) {
        expect((await reader.call('GET', `kv/data/${name}`)).body.data.data.n, `the acknowledged write of ${name}`).toBeGreaterThanOrEqual(n);
      }
    }
  }, 120_000);
});
