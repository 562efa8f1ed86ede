import type { Logger } from 'pino';
import type { AuditBroker } from '../audit/broker.js';
import type { HaView } from '../ha/coordinator.js';
import type { PolicyStore } from '../auth/policy-store.js';
import type { MountEntry, TokenEntry } from '../kernel/entries.js';
import type { Authorizer, LeaseTtls, ServerInfo } from '../kernel/services.js';
import type { MetricsAnswer } from '../metrics/index.js';
import type { SealManager } from '../seal/seal-manager.js';
import type { BarrierStore } from '../store/barrier.js';
import type { StoreSnapshots } from '../store/store.js';
import type { MountTable } from './mount-table.js';
import type { VersionHistory } from './version-history.js';

/** A check run before a mount is disabled; it throws a coded error to refuse (sync associations). */
export type UnmountGuard = (mount: MountEntry) => Promise<void>;

/** Runs the KV v1 → v2 upgrade of a mount a tune has just marked (the KV feature's). */
export interface KvUpgradeStarter {
  /** Resolves when the upgrade is done, or once it goes on in the background (a large mount). */
  start(mountPath: string): Promise<void>;
}

/**
 * What the `sys/` endpoints need from the rest of the server, wired in the composition root.
 * Each path file takes only the members it uses (`Pick<SystemDeps, …>`).
 */
export interface SystemDeps {
  seal: SealManager;
  /** High availability: whether this node is active, who is (`sys/leader`, `sys/health`, `sys/ha-status`, `sys/step-down`). */
  ha: HaView;
  /** Key rotation and key status. */
  barrier: BarrierStore;
  info: ServerInfo;
  mounts: MountTable;
  authorizer: Authorizer;
  tokens: {
    lookup(tokenId: string): Promise<TokenEntry | undefined>;
    lookupAccessor(accessor: string): Promise<TokenEntry | undefined>;
    /** Revokes the tokens an auth mount's logins issued (when it is disabled). */
    revokeByMount(mountAccessor: string): Promise<void>;
  };
  /** The auth method types Ferry serves (`approle`, `jwt`, `userpass`), for `sys/auth`. */
  authMethodTypes: ReadonlySet<string>;
  policies: PolicyStore;
  audit: AuditBroker;
  /** KV v1 → v2 upgrades, started by a tune to `options.version=2`. */
  kvUpgrades: KvUpgradeStarter;
  /** Filled by the composition root with the guards of features that hold mounts (sync). */
  unmountGuards: UnmountGuard[];
  /** The versions this storage has run (`sys/version-history`). */
  versionHistory: VersionHistory;
  /** The OpenAPI document of every backend, built by the HTTP layer from the route declarations. */
  openApiDocument: () => Record<string, unknown>;
  clock: () => number;
  log: Logger;
  /** The configuration's `default_lease_ttl` and `max_lease_ttl`. */
  leaseTtls: LeaseTtls;
  /** The server's metrics, in the format `sys/metrics` asks for. */
  metrics: { answer(format: string): Promise<MetricsAnswer> };
  /** The storage driver's snapshot capability, when it has one. */
  snapshots?: StoreSnapshots;
  /** Where snapshots are assembled and unpacked: beside the database, on the same volume. */
  scratchDir: string;
}
