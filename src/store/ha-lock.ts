/**
 * The storage side of high availability: the port through which several Ferry nodes sharing
 * one database elect a single active node, and advertise themselves to each other. The HA
 * feature (`src/ha/`) drives it; a storage driver that can host a cluster implements it
 * (PostgreSQL: `postgres-ha.ts`). Nothing here is secret: addresses and timestamps only.
 */

/** What a node advertises about itself, refreshed by its heartbeat. */
export interface HaNodeAdvert {
  /** Random per process: a restarted node is a new node. */
  nodeId: string;
  hostname: string;
  /** Where clients reach it (`api_addr`). */
  apiAddr: string;
  /** Where the other nodes forward requests to it (`cluster_addr`, `https://host:port`). */
  clusterAddr: string;
  version: string;
}

/** A node as the node table holds it. */
export interface HaNodeRecord extends HaNodeAdvert {
  /** The database's time of its last heartbeat, ms epoch. */
  lastEcho: number;
}

/** The active node as the leader record names it. */
export interface HaLeaderRecord {
  nodeId: string;
  apiAddr: string;
  clusterAddr: string;
  /** Bumped by every takeover, in the same transaction that names the new active node. */
  term: number;
  /** When it became active (the database's clock), ms epoch. */
  since: number;
}

/**
 * One node's handle on the election. Every call may throw when the database cannot be reached;
 * the caller treats that as "not active" (and, when active, as having lost the lock).
 */
export interface HaLockBackend {
  /**
   * Tries to take the lock without waiting. On success this node is the only holder until
   * `release`, the connection's loss or the process's death, and the leader record names it
   * with a new term (returned); undefined when another node holds it.
   */
  tryAcquire(self: HaNodeAdvert): Promise<HaLeaderRecord | undefined>;
  /** Gives the lock up (step-down, seal, shutdown); the next holder bumps the term. */
  release(): Promise<void>;
  /** Whether this node still holds the lock: a round trip on the lock's own connection. */
  stillHeld(): Promise<boolean>;
  /** Upserts this node's row with the database's current time. */
  heartbeat(self: HaNodeAdvert): Promise<void>;
  /** The leader record (the last node that took the lock), if any. */
  leader(): Promise<HaLeaderRecord | undefined>;
  /** Nodes heard from within `withinMs`, by node id. */
  nodes(withinMs: number): Promise<HaNodeRecord[]>;
  /**
   * Called when the lock's connection fails on its own (database restarted, network cut): the
   * lock is gone with it. The backend reconnects on the next call.
   */
  onConnectionLost(listener: (err: Error) => void): void;
  close(): Promise<void>;
}
