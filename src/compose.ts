import { hostname, tmpdir } from 'node:os';
import { dirname, resolve } from 'node:path';
import pino, { type Logger } from 'pino';
import { BackendRegistry } from './kernel/backends.js';
import type { MountEntry, TokenEntry } from './kernel/entries.js';
import { permissionDenied } from './kernel/errors.js';
import type { Backend } from './kernel/request.js';
import {
  VAULT_LEASE_TTLS,
  type AuditSink,
  type Authorizer,
  type LeaseTtls,
  type RequestObserver,
  type SealState,
  type ServerInfo,
} from './kernel/services.js';
import { telemetryDefaults, type TelemetryConfig } from './config/schema.js';
import { FerryMetrics } from './metrics/index.js';
import { buildOpenApi, type DocumentedBackend } from './http/openapi.js';
import { DEFAULT_JSON_LIMITS, type JsonLimits } from './http/json-limits.js';
import { SqliteStore } from './store/sqlite.js';
import { PostgresStore } from './store/postgres.js';
import { BarrierStore } from './store/barrier.js';
import type { Store } from './store/store.js';
import { NotifyingStore } from './store/notifying.js';
import { ReadCachingStore } from './store/read-cache.js';
import { MountTable } from './sys/mount-table.js';
import { TokenStore, tokenPaths } from './auth/token/index.js';
import { AclAuthorizer } from './auth/acl.js';
import { PolicyStore } from './auth/policy-store.js';
import { AuditBroker } from './audit/broker.js';
import { SealManager } from './seal/seal-manager.js';
import { ClusterIdentity, VersionHistory, systemPaths, type UnmountGuard } from './sys/index.js';
import { createKvFeature, type ExpirySweep, type KvFeature } from './kv/index.js';
import { createSecretsSyncTokenSigner, identityPaths } from './identity/index.js';
import { createSyncFeature, kvSecretSource, type SyncFeature, type Resolver, type SyncServerConfig, type SyncWorkerOptions } from './sync/index.js';
import type { AuthMethodDeps } from './auth/login/deps.js';
import { SaltCache } from './auth/login/mount-storage.js';
import { userpassBackend } from './auth/userpass/index.js';
import { approleBackend } from './auth/approle/index.js';
import { JwtKeyCache, jwtBackend } from './auth/jwt/index.js';
import { randomUUID } from 'node:crypto';
import { ClusterKey, CLUSTER_PSK_IDENTITY, HaCoordinator, SINGLE_NODE, type HaTiming, type HaView } from './ha/index.js';
import type { HaLockBackend } from './store/ha-lock.js';
import { PostgresHaLock } from './store/postgres-ha.js';
import { RequestForwarder, type ClusterPsk } from './http/forward.js';

/**
 * The composition root of a Ferry server: every feature created and wired to its dependencies.
 * Longer than 400 lines on purpose: the wiring is kept in one place, in the order things must be
 * created, so that a reader sees every dependency of every feature here and nowhere else.
 */

export const FERRY_VERSION = '0.1.0';
/**
 * The Vault release whose API Ferry implements: the newest whose secrets-sync fields Ferry
 * supports, so that clients gating features on the server's version (terraform-provider-vault
 * sends `kms_key_id` and `replica_regions` only to 2.1.0 and later, the workload identity
 * fields to 2.0.0 and later) send everything Ferry understands.
 */
export const VAULT_API_VERSION = '2.2.0';
/**
 * The `version` of `sys/seal-status` and `sys/health`: the Vault API version with Ferry's own as
 * semver build metadata. Build metadata is ignored when versions are compared, so clients see
 * exactly `VAULT_API_VERSION`; a prerelease (`2.2.0-ferry`) would compare lower and turn the
 * 2.2.0 features off, and metadata containing "ent" would make terraform-provider-vault take
 * Ferry for Vault Enterprise.
 */
export const REPORTED_VERSION = `${VAULT_API_VERSION}+ferry.${FERRY_VERSION}`;

export interface CoreOptions {
  /** SQLite file, or `:memory:` for the dev server; unused when `postgres` is given. */
  storagePath: string;
  /** The `storage "postgresql"` stanza: the store is then PostgreSQL, shared with any other node on the database. */
  postgres?: PostgresOptions;
  dev: boolean;
  /** Dev root token id; random when absent. */
  devRootTokenId?: string;
  apiAddr?: string;
  logger?: Logger;
  clock?: () => number;
  maxRequestSize?: number;
  /** The configuration's `default_lease_ttl` and `max_lease_ttl` (768h each unless set). */
  leaseTtls?: LeaseTtls;
  /**
   * The configuration's `telemetry` stanza (`sys/metrics`); its defaults when unset, and in dev
   * mode Vault's dev settings (`prometheus_retention_time = "24h"`, `disable_hostname = true`).
   */
  telemetry?: TelemetryConfig;
  /** The configuration's `ui` key, for the UI issue. */
  ui?: boolean;
  /** The configuration's `sync` block (`allowed_endpoint_prefixes`). */
  sync?: SyncServerConfig;
  /** How sync destinations resolve hostnames (strict networking); the system's resolver unless a test maps AWS's names. */
  syncResolver?: Resolver;
  /** The listener's JSON limits (`max_json_*`); Vault's defaults when absent. */
  jsonLimits?: Partial<JsonLimits>;
  /** Sync worker tuning. The worker is built stopped: `main.ts` starts it (and the expiry sweep), tests drive `drainOnce`. */
  syncWorker?: SyncWorkerOptions;
  /**
   * High availability, acted on with `postgres.haEnabled` (`storage "postgresql" { ha_enabled = "true" }`):
   * the address other nodes forward requests to (`cluster_addr`), and test hooks.
   */
  ha?: {
    /** `https://host:port`: where the other nodes forward requests to this one. */
    clusterAddr: string;
    /** The election's backend; the PostgreSQL advisory lock on the same database unless a test gives another. */
    lock?: HaLockBackend;
    timing?: Partial<HaTiming>;
  };
}

/** `storage "postgresql" { connection_url, ha_enabled, max_parallel }`, as the configuration resolved it. */
export interface PostgresOptions {
  connectionUrl: string;
  /** Whether nodes on the database elect one active node; acted on by HA. */
  haEnabled: boolean;
  maxParallel?: number;
}

/** The storage the server runs on, for HA and operators' tooling. */
export interface StorageInfo {
  type: 'sqlite' | 'postgresql';
  /** The configuration's `ha_enabled` (PostgreSQL only; false on SQLite, which one process owns). */
  haEnabled: boolean;
  /** The PostgreSQL driver itself (below the barrier): its claim fencing (`fenceClaims`) is HA's. */
  postgres?: PostgresStore;
}

/**
 * The services the composition root built, as the app layer (`buildApp`, `main.ts`), tests
 * and tools reach them. No feature sees this record: each declares the narrow dependencies
 * it needs (`sys/deps.ts`, `identity/deps.ts`, …) and is handed those here.
 */
export interface CoreServices {
  store: Store;
  mounts: MountTable;
  tokens: TokenStore;
  authorizer: Authorizer;
  seal: SealState;
  audit: AuditSink;
  /** The backend serving each mount type. */
  backends: BackendRegistry;
  clock: () => number;
  log: Logger;
  info: ServerInfo;
  /** Largest accepted request body, in bytes. */
  maxRequestSize: number;
  leaseTtls: LeaseTtls;
  /** The configuration's `telemetry` stanza as the server runs it (defaults filled in). */
  telemetry: TelemetryConfig;
  /** Every metric of the server, and the two forms `sys/metrics` renders them in. */
  metrics: FerryMetrics;
  /** Where the HTTP layer reports each answered request (`metrics.requests`). */
  requests: RequestObserver;
  /** Whether the configuration enables the web UI (acted on by the UI issue). */
  ui: boolean;
  /** The listener's JSON limits, checked on every body as it arrives. */
  jsonLimits: JsonLimits;
  /** With HA: the node's state, and the forwarder a standby hands client requests to. */
  ha?: { view: HaView; forwarder: RequestForwarder; beforeLocalAnswer?: () => void };
}

/** The security services behind the service interfaces, for tests, benchmarks and operators' tooling. */
export interface Security {
  barrier: BarrierStore;
  seal: SealManager;
  policies: PolicyStore;
  authorizer: AclAuthorizer;
  audit: AuditBroker;
}

export interface Server {
  core: CoreServices;
  /** The root token, in dev mode only (printed at start, as Vault's dev server does). */
  rootToken?: string;
  /** Dev mode only: the single unseal key share (base64); `main.ts` prints it, as Vault's dev server does, and tests unseal with it. */
  devUnsealKey?: string;
  security: Security;
  /** Every backend with the prefix it serves, for routing and for the OpenAPI document. */
  documented: DocumentedBackend[];
  /** Secrets sync: its API rules, AWS adapters and delivery worker (built stopped). */
  sync: SyncFeature;
  /** The KV engines and the domain read API sync uses. */
  kv: KvFeature;
  /** KV's report of `delete_version_after` expiries of synced secrets; runs beside the worker (built stopped). */
  expirySweep: ExpirySweep;
  /** What the server stores on. */
  storage: StorageInfo;
  /**
   * Drops every in-memory copy of stored state — cached tokens, policies, KV mount settings,
   * signing keys, auth salts, AWS clients built from destinations — and reloads the barrier's keyring, the mount
   * table and the audit devices, each swapped whole. For a node sharing its database with others (PostgreSQL), whose
   * copies the others' writes made stale: HA calls it when a node becomes active, before it
   * serves. A no-op while sealed (sealing drops all of it anyway).
   */
  refreshFromStorage(): Promise<void>;
  /** This node's HA state (`SINGLE_NODE` without HA). */
  ha: HaView;
  /** With HA: the cluster channel's key, for the cluster listener (`main.ts`). */
  clusterPsk?: ClusterPsk;
  /**
   * Starts the background work: without HA the sync worker and the expiry sweep; with HA the
   * election, which runs them exactly while this node is active.
   */
  startBackground(): void;
  /** Stops it (with HA: steps down, giving the lock back). */
  stopBackground(): Promise<void>;
  /** Stops the background work if it still runs, then closes the store. */
  close(): Promise<void>;
}

/**
 * The composition root: builds the store stack, the domain services and the features, hands
 * each feature the narrow dependencies it declares, and registers the backend of each mount
 * type. It starts nothing: `main.ts` starts and stops the sync worker.
 */
export async function createServer(opts: CoreOptions): Promise<Server> {
  const log = opts.logger ?? pino({ level: 'silent' });
  const clock = opts.clock ?? Date.now;
  // Services built after the seal manager whose in-memory state its seal hook must drop.
  const sealDependents: { reset(): void }[] = [];
  // Work of features built after the seal manager that starts once the barrier is open.
  const unsealDependents: Array<() => void | Promise<void>> = [];
  // Every service sees only the barrier: nothing reaches the database unencrypted.
  const postgres = opts.postgres
    ? await PostgresStore.open({
        connectionUrl: opts.postgres.connectionUrl,
        maxParallel: opts.postgres.maxParallel,
        clock,
        onIdleError: (err) => log.warn({ error: err.message }, 'a pooled PostgreSQL connection failed; it is replaced on next use'),
      })
    : undefined;
  const sqlite = postgres ? undefined : new SqliteStore({ path: opts.storagePath, clock });
  const barrier = new BarrierStore((postgres ?? sqlite)!);
  // Hot entries are served decrypted from memory — only on SQLite, which this process alone
  // writes. On PostgreSQL other nodes write too, and a cached entry could be one another node
  // already replaced (a revoked token, a spent use, an old policy): the cache is left out there
  // rather than made coherent, since every read then costs one indexed lookup, which is cheap.
  // The notifying layer tells the sync worker about commits that enqueue outbox operations.
  const cached = sqlite ? new ReadCachingStore(barrier) : undefined;
  const notifying = new NotifyingStore(cached ?? barrier);
  const store: Store = notifying;
  const mounts = new MountTable(store);
  const tokens = new TokenStore(store, clock);
  const policies = new PolicyStore(store);
  const authorizer = new AclAuthorizer(policies);
  const audit = new AuditBroker(store, log, clock);
  const info: ServerInfo = {
    version: REPORTED_VERSION,
    ferryVersion: FERRY_VERSION,
    buildDate: '2026-11-29T00:00:00Z',
    clusterName: 'ferry-cluster',
    clusterId: '',
    storageType: postgres ? 'postgresql' : opts.dev ? 'inmem' : 'sqlite',
    apiAddr: opts.apiAddr ?? '',
    dev: opts.dev,
  };
  const versionHistory = new VersionHistory(store, info, clock);
  const cluster = new ClusterIdentity(store, info);
  const telemetry = opts.telemetry ?? { ...telemetryDefaults(), ...(opts.dev ? { disable_hostname: true } : {}) };
  const haEnabled = opts.postgres?.haEnabled === true;
  const clusterKey = haEnabled ? new ClusterKey(store) : undefined;
  // What lives behind the barrier is loaded when it opens and forgotten when it closes; with HA
  // also when a node takes over as the active one (another node may have changed it meanwhile).
  // The unseal dependents' work (resuming a KV upgrade, the endpoint review) is the active
  // node's: with HA a node does it when it takes over, not when it is unsealed as a standby.
  const loadState = async (activeWork: boolean) => {
    await cluster.id();
    await mounts.load();
    await tokens.saltAccessorIndex();
    await policies.ensureDefault();
    await audit.load();
    await versionHistory.record();
    await clusterKey?.load();
    if (activeWork) for (const dependent of unsealDependents) await dependent();
  };
  const dropState = () => {
    for (const dependent of sealDependents) dependent.reset();
    cluster.reset();
    tokens.reset();
    policies.reset();
    audit.reset();
  };
  // Set once the election is built (below): a sealed node gives the lock up first.
  let beforeSealHa: () => Promise<void> = async () => undefined;
  let unsealedHa: () => void = () => undefined;
  const seal = new SealManager(
    barrier,
    {
      afterUnseal: async () => {
        await loadState(!haEnabled);
        // An unsealed HA node competes for the lock at once rather than at its next round.
        unsealedHa();
      },
      beforeSeal: async () => {
        await beforeSealHa();
        dropState();
        clusterKey?.reset();
      },
      createRootToken: async (id) =>
        (await tokens.create({ id, policies: ['root'], parent: null, ttl: 0, display_name: 'root', path: 'auth/token/root' })).id,
    },
    clock,
    log,
  );
  await seal.load();
  const unmountGuards: UnmountGuard[] = [];
  const metrics = new FerryMetrics({
    prometheusRetentionSeconds: telemetry.prometheus_retention_time,
    // Vault puts the hostname on gauges unless told not to; Ferry as a label (see MetricsOptions).
    hostLabel: !telemetry.disable_hostname || telemetry.enable_hostname_label ? hostname() : undefined,
    seal,
    version: FERRY_VERSION,
    clock,
  });

  const kv = createKvFeature({ store, clock, mounts, seal, log });
  // A KV v1 → v2 upgrade a crash or a seal interrupted goes on (in the background) after unseal.
  unsealDependents.push(() => kv.upgrades.resume());
  const leaseTtls = opts.leaseTtls ?? VAULT_LEASE_TTLS;
  const identityDeps = { store, clock, info, log };
  const signer = createSecretsSyncTokenSigner(identityDeps);
  const sync = createSyncFeature(
    { store, mounts, authorizer, seal, clock, log, clusterId: () => cluster.id() },
    { source: kvSecretSource(mounts, kv), signer, worker: opts.syncWorker, config: opts.sync, resolve: opts.syncResolver, metrics: metrics.sync },
  );
  // Endpoints stored before only sudo holders could set them are listed once per unseal, for review.
  unsealDependents.push(() => sync.reviewEndpoints());
  const expirySweep = kv.createExpirySweep(() => sync.followedSecrets());
  // A KV mount with sync associations cannot be disabled.
  unmountGuards.push((mount: MountEntry) => sync.service.guardUnmount(mount));
  sealDependents.push(signer, sync.adapters, ...(cached ? [cached] : []));
  // Commits that enqueue outbox operations wake the sync worker at once.
  notifying.onEnqueue(() => sync.worker.notify());

  // High availability: the election gates the background work; a standby forwards requests.
  let background = { start: () => startWorkers(), stop: () => stopWorkers() };
  let ha: HaView = SINGLE_NODE;
  let clusterPsk: ClusterPsk | undefined;
  let coreHa: CoreServices['ha'];
  function startWorkers(): void {
    sync.worker.start();
    expirySweep.start();
  }
  async function stopWorkers(): Promise<void> {
    await expirySweep.stop();
    await sync.worker.stop();
  }
  if (opts.postgres && clusterKey) {
    const lock = opts.ha?.lock ?? new PostgresHaLock({ connectionUrl: opts.postgres.connectionUrl });
    const clusterAddr = opts.ha?.clusterAddr ?? '';
    const psk: ClusterPsk = { identity: CLUSTER_PSK_IDENTITY, key: () => clusterKey.current() };
    const forwarder = new RequestForwarder(psk);
    const nodeId = randomUUID();
    const coordinator = new HaCoordinator(
      {
        lock,
        self: () => ({ nodeId, hostname: hostname(), apiAddr: info.apiAddr, clusterAddr, version: info.version }),
        sealed: () => barrier.isSealed,
        refreshSeal: async () => {
          if (!seal.initialized) await seal.load();
        },
        onActive: async (won) => {
          // The previous active node may have rotated the keyring, changed mounts, policies, audit
          // devices, KV mounts' settings: everything in memory is dropped and read again (what
          // refreshFromStorage does, plus what only the active node loads).
          await barrier.reloadKeyring();
          kv.forgetCachedConfigs();
          dropState();
          await loadState(true);
          // Outbox claims are made under this term from now on, and the earlier terms' claims (a
          // dead or deposed node's) are released at once: their late settlements are void.
          await postgres?.fenceClaims(won.term);
          startWorkers();
        },
        onStandby: stopWorkers,
        echo: (addr) => forwarder.echo(addr),
        clock,
        log,
      },
      opts.ha?.timing,
    );
    beforeSealHa = async () => {
      await coordinator.sealing();
      forwarder.reset();
    };
    unsealedHa = () => coordinator.poke();
    background = { start: () => coordinator.start(), stop: () => coordinator.stop() };
    ha = coordinator;
    clusterPsk = psk;
    // A standby's own answers (sys/metrics, sys/seal) check tokens and policies against storage,
    // not against copies the active node may have revoked or changed since.
    const beforeLocalAnswer = () => {
      tokens.forgetCachedEntries();
      policies.reset();
    };
    coreHa = { view: coordinator, forwarder, beforeLocalAnswer };
  }

  // Auth methods, by the mount type `sys/auth` enables them with.
  const salts = new SaltCache();
  const jwtKeys = new JwtKeyCache(clock);
  sealDependents.push(salts, jwtKeys);
  const authMethodDeps: AuthMethodDeps = { store, salts, tokens, clock, leaseTtls, mountEnabled: (accessor) => mounts.hasAccessor(accessor) };
  const authMethods: Record<string, Backend> = {
    approle: approleBackend(authMethodDeps),
    jwt: jwtBackend({ ...authMethodDeps, keys: jwtKeys }),
    userpass: userpassBackend(authMethodDeps),
  };

  const documented: DocumentedBackend[] = [];
  const system: Backend = {
    mountType: 'system',
    paths: [
      ...systemPaths({
        seal,
        barrier,
        info,
        mounts,
        authorizer,
        tokens,
        policies,
        audit,
        unmountGuards,
        versionHistory,
        ha,
        kvUpgrades: kv.upgrades,
        authMethodTypes: new Set(Object.keys(authMethods)),
        openApiDocument: () => buildOpenApi(documented, FERRY_VERSION),
        clock,
        log,
        leaseTtls,
        // The driver's snapshot capability (both have it: a PostgreSQL store's snapshot is a SQLite
        // file too); snapshots are assembled beside the database file, or in the temporary directory.
        snapshots: postgres ?? sqlite,
        scratchDir: postgres || opts.storagePath === ':memory:' ? tmpdir() : dirname(resolve(opts.storagePath)),
        metrics,
      }),
      ...sync.paths,
    ],
  };
  // A login's token is renewed only with the say of the method that issued it (a method gone: no renewal).
  const loginRenewal = async (entry: TokenEntry) => {
    const mount = mounts.byAccessor(entry.mount_accessor ?? '');
    if (!mount) throw permissionDenied();
    await authMethods[mount.type]?.renewLogin?.(mount, entry);
  };
  const token: Backend = { mountType: 'token', paths: tokenPaths({ tokens, authorizer, clock, leaseTtls, loginRenewal }) };
  const identity: Backend = { mountType: 'identity', paths: identityPaths(identityDeps) };
  const backends = new BackendRegistry()
    .register('system', system)
    .register('token', token)
    .register('identity', identity)
    .register('kv', (mount) => kv.backendFor(mount));
  for (const [type, backend] of Object.entries(authMethods)) backends.register(type, backend);
  documented.push(
    { prefix: 'sys/', backend: system, tag: 'system' },
    { prefix: 'auth/token/', backend: token, tag: 'auth' },
    { prefix: 'identity/', backend: identity, tag: 'identity' },
    { prefix: '{kv_v2_mount_path}/', backend: kv.v2, tag: 'secrets' },
    { prefix: '{kv_v1_mount_path}/', backend: kv.v1, tag: 'secrets' },
  );
  for (const [type, backend] of Object.entries(authMethods)) documented.push({ prefix: `auth/{${type}_mount_path}/`, backend, tag: 'auth' });
  const core: CoreServices = {
    store,
    mounts,
    tokens,
    authorizer,
    seal,
    audit,
    backends,
    clock,
    log,
    info,
    maxRequestSize: opts.maxRequestSize ?? 32 * 1024 * 1024,
    leaseTtls,
    telemetry,
    metrics,
    requests: metrics.requests,
    ui: opts.ui ?? false,
    jsonLimits: { ...DEFAULT_JSON_LIMITS, ...opts.jsonLimits },
    ha: coreHa,
  };

  let rootToken: string | undefined;
  let devUnsealKey: string | undefined;
  if (opts.dev) {
    // Vault's dev server: initialise with one share and unseal at once; nothing extra is printed.
    if (seal.initialized) throw new Error(`dev mode needs empty storage, but ${opts.storagePath} is already initialized`);
    const init = await seal.initialize({ secretShares: 1, secretThreshold: 1, rootTokenId: opts.devRootTokenId || undefined });
    await seal.submitShare(init.keys[0]!);
    rootToken = init.rootToken;
    devUnsealKey = init.keys[0]!.toString('base64');
    init.keys.forEach((k) => k.fill(0));
    if (!mounts.get('secret/')) {
      await mounts.update((all) => {
        all.push(mounts.build('secret/', 'kv', { description: 'key/value secret storage', options: { version: '2' } }));
      });
    }
  }

  return {
    core,
    rootToken,
    devUnsealKey,
    sync,
    kv,
    expirySweep,
    security: { barrier, seal, policies, authorizer, audit },
    documented,
    storage: { type: postgres ? 'postgresql' : 'sqlite', haEnabled: opts.postgres?.haEnabled ?? false, ...(postgres ? { postgres } : {}) },
    refreshFromStorage: async () => {
      if (barrier.isSealed) return;
      // First the keyring: another node may have rotated it (sys/rotate), and what it wrote since
      // is encrypted under a term this node does not know yet.
      await barrier.reloadKeyring();
      tokens.forgetCachedEntries();
      policies.reset();
      kv.forgetCachedConfigs();
      for (const dependent of sealDependents) dependent.reset();
      await mounts.load();
      await audit.load();
    },
    ha,
    clusterPsk,
    startBackground: () => background.start(),
    stopBackground: () => background.stop(),
    close: async () => {
      // `main.ts` stops them first; stopping again is a no-op, and guards callers that did not.
      await background.stop();
      await stopWorkers();
      sync.adapters.reset();
      // Closing the barrier drops the keys from memory before the database closes.
      await barrier.close();
    },
  };
}
