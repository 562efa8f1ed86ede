/**
 * Ferry HA clusters for tests: N `ferry server` processes, each with its own client and cluster
 * ports, on one PostgreSQL database, initialised and unsealed.
 */
import fs from 'node:fs';
import path from 'node:path';
import { freeLoopbackPort, runFerry, waitUntil, type RunningProcess } from '../support/process.js';
import { overHttp, type Target } from '../support/sync-invariants.js';

export interface HaNode {
  index: number;
  url: string;
  clusterUrl: string;
  config: string;
  proc: RunningProcess | undefined;
  /** Starts (or restarts) the process and waits for its banner. */
  start(): Promise<void>;
  /** Unauthenticated call. */
  anonymous: Target;
}

export interface HaCluster {
  nodes: HaNode[];
  rootToken: string;
  unsealKey: string;
  /** A client of node `i` with the root token. */
  client(i: number): Target;
  unseal(i: number): Promise<void>;
  /** The indices of the running nodes whose `sys/leader` says `is_self` (one round of calls). */
  activeNodes(): Promise<number[]>;
  /** Waits until exactly one running node is active and every running, unsealed node names it; answers its index. */
  settled(timeoutMs?: number): Promise<number>;
  stop(): Promise<void>;
}

export async function startHaCluster(opts: { size: number; connectionUrl: string; dir: string; env?: Record<string, string>; logLevel?: string }): Promise<HaCluster> {
  const nodes: HaNode[] = [];
  for (let i = 0; i < opts.size; i++) {
    const port = await freeLoopbackPort();
    const clusterPort = await freeLoopbackPort();
    const url = `http://127.0.0.1:${port}`;
    const clusterUrl = `https://127.0.0.1:${clusterPort}`;
    const config = path.join(opts.dir, `node${i}.hcl`);
    fs.writeFileSync(
      config,
      [
        'listener "tcp" {',
        `  address = "127.0.0.1:${port}"`,
        `  cluster_address = "127.0.0.1:${clusterPort}"`,
        '  tls_disable = true',
        '}',
        'storage "postgresql" {',
        `  connection_url = "${opts.connectionUrl}"`,
        '  ha_enabled = "true"',
        '}',
        `api_addr = "${url}"`,
        `cluster_addr = "${clusterUrl}"`,
        `log_level = "${opts.logLevel ?? 'info'}"`,
        '',
      ].join('\n'),
    );
    const node: HaNode = {
      index: i,
      url,
      clusterUrl,
      config,
      proc: undefined,
      anonymous: overHttp(url, ''),
      start: async () => {
        node.proc = runFerry(['server', `-config=${config}`, '-log-format=standard'], opts.env);
        await node.proc.waitFor(/Ferry server started/, 30_000);
      },
    };
    nodes.push(node);
  }
  await Promise.all(nodes.map((n) => n.start()));
  const init = await nodes[0]!.anonymous.call('PUT', 'sys/init', { secret_shares: 1, secret_threshold: 1 });
  if (init.status !== 200) throw new Error(`init failed: ${JSON.stringify(init.body)}`);
  const cluster: HaCluster = {
    nodes,
    rootToken: init.body.root_token,
    unsealKey: init.body.keys[0],
    client: (i) => overHttp(nodes[i]!.url, cluster.rootToken),
    unseal: async (i) => {
      // Another node's init reaches this one's seal status within a round of its election loop.
      await waitUntil(`node ${i} to see the storage initialised`, async () => (await nodes[i]!.anonymous.call('GET', 'sys/seal-status')).body.initialized, { timeoutMs: 10_000 });
      const res = await nodes[i]!.anonymous.call('PUT', 'sys/unseal', { key: cluster.unsealKey });
      if (res.status !== 200 || res.body.sealed) throw new Error(`unseal of node ${i} failed: ${JSON.stringify(res.body)}`);
    },
    activeNodes: async () => {
      const out: number[] = [];
      for (const n of nodes) {
        if (!n.proc || n.proc.child.exitCode !== null || n.proc.child.signalCode !== null) continue;
        try {
          const res = await n.anonymous.call('GET', 'sys/leader');
          if (res.body?.is_self === true) out.push(n.index);
        } catch {
          // a node that does not answer is not active
        }
      }
      return out;
    },
    settled: async (timeoutMs = 15_000) => {
      let active = -1;
      await waitUntil(
        'exactly one active node, named by every running node',
        async () => {
          const now = await cluster.activeNodes();
          if (now.length !== 1) return false;
          active = now[0]!;
          const live = nodes.filter((n) => n.proc && n.proc.child.exitCode === null && n.proc.child.signalCode === null);
          for (const n of live) {
            const res = await n.anonymous.call('GET', 'sys/leader');
            // A sealed node takes no part (its sys/leader answers 503, as Vault's does).
            if (res.status === 503) continue;
            if (res.body?.leader_address !== nodes[active]!.url) return false;
          }
          return true;
        },
        { timeoutMs, intervalMs: 50 },
      );
      return active;
    },
    stop: async () => {
      await Promise.all(nodes.map((n) => n.proc?.stop()));
    },
  };
  for (let i = 0; i < nodes.length; i++) await cluster.unseal(i);
  return cluster;
}
