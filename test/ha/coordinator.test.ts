/**
 * The HA state machine against an in-memory election (one lock, a leader record, a node table),
 * driven round by round with `tick()` and a manual clock: which node is active, when the workers
 * run, and what takes the lock away. The PostgreSQL election itself is tested in
 * `cluster.pg.test.ts`.
 */
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { HaCoordinator } from '../../src/ha/index.js';
import type { HaLeaderRecord, HaLockBackend, HaNodeAdvert, HaNodeRecord } from '../../src/store/ha-lock.js';
import { manualClock, type ManualClock } from '../support/clock.js';

/** One database's worth of election state, shared by the nodes' handles. */
class FakeDatabase {
  holder: string | undefined;
  leader: HaLeaderRecord | undefined;
  nodes = new Map<string, HaNodeRecord>();
  down = false;
  constructor(readonly clock: ManualClock) {}
}

class FakeLock implements HaLockBackend {
  private held = false;
  private lost: Array<(err: Error) => void> = [];
  constructor(
    private readonly db: FakeDatabase,
    private readonly id: string,
  ) {}
  private check() {
    if (this.db.down) throw new Error('connection refused');
  }
  async tryAcquire(self: HaNodeAdvert) {
    this.check();
    if (this.db.holder !== undefined && this.db.holder !== this.id) return undefined;
    this.db.holder = this.id;
    this.held = true;
    this.db.leader = { nodeId: self.nodeId, apiAddr: self.apiAddr, clusterAddr: self.clusterAddr, term: (this.db.leader?.term ?? 0) + 1, since: this.db.clock() };
    return this.db.leader;
  }
  async release() {
    if (this.held && this.db.holder === this.id) this.db.holder = undefined;
    this.held = false;
  }
  async stillHeld() {
    this.check();
    return this.held && this.db.holder === this.id;
  }
  async heartbeat(self: HaNodeAdvert) {
    this.check();
    this.db.nodes.set(self.nodeId, { ...self, lastEcho: this.db.clock() });
  }
  async leader() {
    this.check();
    return this.db.leader;
  }
  async nodes() {
    this.check();
    return [...this.db.nodes.values()];
  }
  onConnectionLost(listener: (err: Error) => void) {
    this.lost.push(listener);
  }
  /** The connection dies: the database frees the session's lock, and the node is told. */
  kill() {
    if (this.db.holder === this.id) this.db.holder = undefined;
    this.held = false;
    for (const l of this.lost) l(new Error('connection terminated'));
  }
  async close() {
    await this.release();
  }
}

interface TestNode {
  id: string;
  coordinator: HaCoordinator;
  lock: FakeLock;
  sealed: boolean;
  workers: boolean;
  /** Every worker start and stop, in order. */
  events: string[];
}

function cluster(n: number, opts: { failActivation?: string; duringActivation?: (node: TestNode) => void } = {}) {
  const clock = manualClock(Date.parse('2026-12-02T12:00:00Z'));
  const db = new FakeDatabase(clock);
  const nodes: TestNode[] = [];
  for (let i = 0; i < n; i++) {
    const id = `node-${i}`;
    const lock = new FakeLock(db, id);
    const node: TestNode = { id, lock, sealed: false, workers: false, events: [], coordinator: undefined as unknown as HaCoordinator };
    node.coordinator = new HaCoordinator(
      {
        lock,
        self: () => ({ nodeId: id, hostname: id, apiAddr: `http://${id}:8200`, clusterAddr: `https://${id}:8201`, version: 'test' }),
        sealed: () => node.sealed,
        onActive: async () => {
          if (opts.failActivation === id) throw new Error('mount table unreadable');
          opts.duringActivation?.(node);
          await new Promise((r) => setImmediate(r));
          node.workers = true;
          node.events.push('start');
        },
        onStandby: async () => {
          node.workers = false;
          node.events.push('stop');
        },
        echo: async () => ({ serverTime: clock() }),
        clock,
        log: pino({ level: 'silent' }),
      },
      { stepDownCooldownMs: 10_000 },
    );
    nodes.push(node);
  }
  const round = async () => {
    for (const node of nodes) await node.coordinator.tick();
  };
  const active = () => nodes.filter((x) => x.coordinator.isActive()).map((x) => x.id);
  return { clock, db, nodes, round, active };
}

describe('HA election', () => {
  it('exactly one of three unsealed nodes is active, runs the workers, and every node names it as the leader', async () => {
    const c = cluster(3);
    await c.round();
    await c.round();
    expect(c.active()).toEqual(['node-0']);
    expect(c.nodes.map((x) => x.workers)).toEqual([true, false, false]);
    for (const node of c.nodes) expect(node.coordinator.leader()?.nodeId).toBe('node-0');
    expect(c.nodes[0]!.coordinator.activeSince()).toBe(c.clock());
    expect(c.nodes[1]!.coordinator.activeSince()).toBeUndefined();
    const listed = await c.nodes[0]!.coordinator.nodes();
    expect(listed.map((x) => [x.nodeId, x.active])).toEqual([
      ['node-0', true],
      ['node-1', false],
      ['node-2', false],
    ]);
  });

  it('a sealed node never takes the lock; sealing the active node hands leadership on and stops its workers', async () => {
    const c = cluster(2);
    c.nodes[0]!.sealed = true;
    await c.round();
    expect(c.active()).toEqual(['node-1']);
    c.nodes[0]!.sealed = false;
    await c.round();
    expect(c.active()).toEqual(['node-1']);
    await c.nodes[1]!.coordinator.sealing();
    c.nodes[1]!.sealed = true;
    expect(c.nodes[1]!.workers).toBe(false);
    expect(c.db.holder).toBeUndefined();
    await c.round();
    expect(c.active()).toEqual(['node-0']);
    expect(c.nodes[0]!.coordinator.leader()?.term).toBe(2);
  });

  it('the lock connection failing steps the active node down at once, before its next round, and a standby takes over with a new term', async () => {
    const c = cluster(3);
    await c.round();
    expect(c.active()).toEqual(['node-0']);
    c.nodes[0]!.lock.kill();
    await Promise.resolve();
    await new Promise((r) => setImmediate(r));
    expect(c.nodes[0]!.coordinator.isActive()).toBe(false);
    expect(c.nodes[0]!.events).toEqual(['start', 'stop']);
    await c.nodes[1]!.coordinator.tick();
    expect(c.active()).toEqual(['node-1']);
    expect(c.db.leader?.term).toBe(2);
  });

  it('the database unreachable: the active node steps down (workers stopped) and nobody is active until it is back', async () => {
    const c = cluster(2);
    await c.round();
    c.db.down = true;
    await c.round();
    expect(c.active()).toEqual([]);
    expect(c.nodes[0]!.workers).toBe(false);
    c.db.down = false;
    c.db.holder = undefined; // the database restarted: every session's lock is gone
    await c.round();
    expect(c.active()).toHaveLength(1);
  });

  it('step-down: the workers stop before the lock is given up, another node takes over, and the node stays out for the cool-down', async () => {
    const c = cluster(2);
    await c.round();
    const [first, second] = c.nodes;
    let holderWhenStopped: string | undefined = 'unset';
    const original = first!.events.push.bind(first!.events);
    first!.events.push = (...items: string[]) => {
      if (items[0] === 'stop') holderWhenStopped = c.db.holder;
      return original(...items);
    };
    await first!.coordinator.stepDown();
    expect(holderWhenStopped).toBe('node-0');
    expect(c.db.holder).toBeUndefined();
    await first!.coordinator.tick();
    expect(first!.coordinator.isActive()).toBe(false);
    await second!.coordinator.tick();
    expect(c.active()).toEqual(['node-1']);
    // The second node steps down too: the first is still cooling down, so nobody is active...
    await second!.coordinator.stepDown();
    c.clock.advance(5_000);
    await first!.coordinator.tick();
    expect(c.active()).toEqual([]);
    // ... until its cool-down ends.
    c.clock.advance(5_000);
    await first!.coordinator.tick();
    expect(c.active()).toEqual(['node-0']);
  });

  it('a node that cannot load its state gives the lock back instead of running half-loaded', async () => {
    const c = cluster(2, { failActivation: 'node-0' });
    await c.nodes[0]!.coordinator.tick();
    expect(c.active()).toEqual([]);
    expect(c.db.holder).toBeUndefined();
    await c.nodes[1]!.coordinator.tick();
    expect(c.active()).toEqual(['node-1']);
  });

  it('the lock connection failing while the node is still loading its state leaves it a standby (no active node without the lock)', async () => {
    // Review #19: the connection-lost listener ignored a node not yet marked active, so a node
    // whose lock went while onActive ran (reloading keyring, mounts, policies) became active anyway,
    // workers running, while another node could take the free lock: two active nodes.
    let killed = false;
    const c = cluster(2, {
      duringActivation: (node) => {
        if (node.id !== 'node-0' || killed) return;
        killed = true;
        node.lock.kill();
      },
    });
    await c.nodes[0]!.coordinator.tick();
    await c.nodes[1]!.coordinator.tick();
    expect(c.db.holder).toBe('node-1');
    expect(c.active()).toEqual(['node-1']);
    expect(c.nodes[0]!.workers).toBe(false);
  });

  it('a standby echoes the active node; its link is healthy while echoes answer and unhealthy once they stop', async () => {
    const c = cluster(2);
    await c.round();
    await c.round();
    await new Promise((r) => setImmediate(r));
    const standby = c.nodes[1]!.coordinator;
    expect(standby.standbyLink().healthy).toBe(true);
    c.clock.advance(3_500);
    expect(standby.standbyLink().healthy).toBe(false);
  });
});
