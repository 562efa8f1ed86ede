import type { PathSpec } from '../kernel/request.js';
import type { SyncMetrics } from '../metrics/index.js';
import type { KvFeature } from '../kv/index.js';
import { isKvV2, type MountTable } from '../sys/mount-table.js';
import { AwsAdapterRegistry } from './aws-sm/adapter.js';
import type { Resolver } from './aws-sm/connections.js';
import type { WebIdentitySigner } from './aws-sm/credentials.js';
import type { SyncDeps } from './deps.js';
import { DriftRepair } from './drift.js';
import { fanOutKvEvents } from './fan-out.js';
import { migrateRecords } from './migration.js';
import { NameClaims } from './name-claims.js';
import { hasEndpointOverride } from './operator-fields.js';
import { DEFAULT_WRITE_BUDGET, SYNC_QUEUE } from './model.js';
import { AdaptiveBudget, type BudgetChange } from './pacing.js';
import { associationPaths } from './path-associations.js';
import { configPaths } from './path-config.js';
import { destinationAssociationPaths } from './path-destinations-associations.js';
import { destinationPrefixPaths } from './path-destinations-prefixes.js';
import { Planner } from './plans.js';
import { PrefixAssociations } from './prefixes.js';
import { destinationStatusPaths } from './path-destinations-status.js';
import { destinationPaths } from './path-destinations.js';
import type { AdapterRegistry } from './port.js';
import { Reconciler, type ReconcileOptions } from './reconcile.js';
import { SyncRecords, parseSyncOperation, splitDestinationRef } from './records.js';
import { SyncService } from './service.js';
import type { SecretSource } from './source.js';
import { destinationStatus, pendingSyncKeys, queueByDestination } from './status.js';
import { SyncWorker, type DeliveryLoopOptions } from './worker.js';

/** Tuning of delivery: the loop's (claims, pool, polling) and the reconcile's (pacing, backoff, reporting). */
export type SyncWorkerOptions = DeliveryLoopOptions & ReconcileOptions;
export type { Resolver } from './aws-sm/connections.js';

export interface SyncFeature {
  service: SyncService;
  worker: SyncWorker;
  adapters: AdapterRegistry;
  /** The `sys/sync/*` paths, for the system backend. */
  paths: PathSpec[];
  /**
   * Another worker over the same store and adapters, with its own claims and write budget: a
   * second process, or the same one after a restart (tests).
   */
  createWorker(options?: SyncWorkerOptions): SyncWorker;
  /** The secrets with at least one association, whose expiries KV's sweep reports. */
  followedSecrets(): Promise<Array<{ mountAccessor: string; path: string }>>;
  /**
   * Lists, in one WARN line, the destinations whose endpoint_url or sts_endpoint_url was stored
   * before only sudo holders could set them (kept working, for an operator to review); run after
   * every unseal, until a sudo holder writes each of them.
   */
  reviewEndpoints(): Promise<void>;
}

export interface SyncFeatureDeps {
  source: SecretSource;
  signer?: WebIdentitySigner & {
    keyExists?(name: string): Promise<boolean>;
    keyVerificationTtl?(name: string): Promise<number | undefined>;
  };
  worker?: SyncWorkerOptions;
  /** Where sync reports its metrics (`sys/metrics`); none in tests that do not look. */
  metrics?: SyncMetrics;
  /** The server configuration's `sync` block. */
  config?: SyncServerConfig;
  /** How destinations resolve hostnames, for strict networking; the system's resolver unless a test maps names. */
  resolve?: Resolver;
}

/** The server configuration's `sync { … }` block (`config/schema.ts`). */
export interface SyncServerConfig {
  /** URL prefixes `endpoint_url` and `sts_endpoint_url` must lie under; empty: no restriction beyond sudo. */
  allowedEndpointPrefixes: string[];
}

/** Builds secrets sync: the API rules, the AWS adapter registry and the delivery worker. */
export function createSyncFeature(core: SyncDeps, deps: SyncFeatureDeps): SyncFeature {
  const records = new SyncRecords(core.store);
  const { metrics } = deps;
  const metricsOf = (type: string, name: string) => metrics?.destination(type, name);
  const adapters = new AwsAdapterRegistry({
    signer: deps.signer,
    clock: core.clock,
    resolve: deps.resolve,
    allowedEndpointPrefixes: deps.config?.allowedEndpointPrefixes ?? [],
    observer: metrics && {
      call: (d, operation, code, kind) => {
        const m = metricsOf(d.type, d.name)!;
        m.awsCall(operation, code);
        if (kind === 'throttled') m.throttled(operation);
      },
      stsRefresh: (d, result) => metricsOf(d.type, d.name)!.stsRefreshed(result),
    },
  });
  const claims = new NameClaims(records, (d) => adapters.accountOf(d));
  const planner = new Planner({ records, adapters, clusterId: () => core.clusterId() });
  const service = new SyncService({
    core,
    records,
    claims,
    source: deps.source,
    identityKeys:
      deps.signer?.keyExists && deps.signer.keyVerificationTtl
        ? { exists: (name) => deps.signer!.keyExists!(name), verificationTtl: (name) => deps.signer!.keyVerificationTtl!(name) }
        : undefined,
    allowedEndpointPrefixes: deps.config?.allowedEndpointPrefixes ?? [],
    accounts: adapters,
    planner,
  });
  const prefixes = new PrefixAssociations({
    core,
    records,
    claims,
    source: deps.source,
    planner,
    store: core.store,
    log: core.log,
    resolveKvMount: (mount) => service.resolveKvMount(mount),
  });
  // Once per process: a failed migration is tried again in the next round.
  let migrated: Promise<void> | undefined;
  const prepare = () =>
    (migrated ??= migrateRecords(records, core.clock).catch((err: unknown) => {
      migrated = undefined;
      throw err;
    }));
  /** A budget's changes: the budget gauge, and one log line per change of how AWS answers. */
  const budgetChanged = (dest: string, change: BudgetChange) => {
    const { type, name } = splitDestinationRef(dest);
    if (change.kind === 'rate') {
      metricsOf(type, name)?.setWriteBudget(change.group, change.perSecond);
    } else if (change.health === 'ok') {
      core.log.info({ destination: dest, was: change.previous }, 'sync destination answers again: its parked deliveries are released');
    } else {
      core.log.warn({ destination: dest, aws: change.health }, 'sync destination is not answering normally: deliveries are parked and AWS is probed');
    }
  };
  // `sys/sync/config`'s `write_budget_per_second` is applied each round; the worker option (tests) stands while the configuration sets none.
  const newBudget = (options: SyncWorkerOptions = {}) =>
    new AdaptiveBudget({ perSecond: options.writesPerSecond ?? DEFAULT_WRITE_BUDGET, probeIntervalMs: options.probeIntervalMs, onChange: budgetChanged });
  const createWorker = (options: SyncWorkerOptions = {}, budget = newBudget(options)) => {
    const drift = new DriftRepair({ records, source: deps.source, adapters, budget, clock: core.clock, log: core.log });
    const release = (dest: string) => {
      // Parked operations become due now; without the store's help they wait for the next probe time.
      void Promise.resolve(core.store.releaseOutbox?.(SYNC_QUEUE, `${dest}|`, core.clock()))
        .then(() => worker.notify())
        .catch((err: unknown) => core.log.error({ err: { message: (err as Error).message } }, 'sync release failed'));
    };
    const reconciler = new Reconciler(
      { records, claims, source: deps.source, adapters, mounts: core.mounts, clock: core.clock, log: core.log, clusterId: core.clusterId, metrics, budget, release },
      options,
    );
    const worker: SyncWorker = new SyncWorker(
      {
        store: core.store,
        clock: core.clock,
        log: core.log,
        sealed: () => core.seal.status().sealed,
        prepare,
        // Read each round (the store caches it): the brake, and the configured budget, applied at once when it changed.
        paused: async () => {
          const { value, revision } = await records.config();
          budget.configure((revision > 0 ? value.write_budget_per_second : undefined) ?? options.writesPerSecond ?? DEFAULT_WRITE_BUDGET);
          return value.disabled;
        },
        // KV changes first, then one step of a prefix bring-in or removal (bounded: 500 secrets).
        fanOut: async () => (await fanOutKvEvents({ store: core.store, records, log: core.log, prefixes })) + (await prefixes.runStep()),
        parkedUntil: (dest, now) => budget.parkedUntil(dest, now),
        repairDrift: () => drift.runDue(),
        reconcile: (payload) => reconciler.reconcile(parseSyncOperation(payload)),
      },
      options,
    );
    return { worker, drift, budget };
  };
  const main = createWorker(deps.worker);
  const summary = (type: string, name: string) =>
    destinationStatus(
      {
        service,
        budget: main.budget,
        drift: main.drift,
        pending: () => pendingSyncKeys(core.store),
        prefixes: (t, n) => prefixes.list(t, n),
        clock: core.clock,
      },
      type,
      name,
    );
  // Queue depth and the oldest pending change are read from the outbox at each scrape, not kept on every change.
  const reported = new Set<string>();
  metrics?.beforeScrape(async () => {
    if (core.seal.status().sealed) return;
    const queues = queueByDestination(await pendingSyncKeys(core.store));
    const now = core.clock();
    const current = new Set((await records.destinationNames('aws-sm')).map((n) => `aws-sm/${n}`));
    for (const gone of [...reported].filter((d) => !current.has(d))) {
      const { type, name } = splitDestinationRef(gone);
      metrics.forget(type, name);
      main.budget.forget(gone);
      reported.delete(gone);
    }
    for (const dest of current) {
      const { type, name } = splitDestinationRef(dest);
      const m = metrics.destination(type, name);
      const q = queues.get(dest);
      m.setQueueDepth(q?.depth ?? 0);
      m.setOldestPendingAge(q?.oldestAt === undefined ? 0 : (now - q.oldestAt) / 1000);
      const rates = main.budget.view(dest, now).rates;
      for (const group of ['create', 'update', 'delete', 'tag'] as const) m.setWriteBudget(group, rates[group] ?? main.budget.perSecond);
      reported.add(dest);
    }
  });
  return {
    service,
    worker: main.worker,
    adapters,
    // Routing takes the first matching pattern: each file keeps its literal paths before its parameters.
    paths: [
      ...configPaths(service),
      ...destinationPaths(service),
      ...destinationAssociationPaths(service),
      ...destinationPrefixPaths(service, prefixes),
      ...destinationStatusPaths(summary),
      ...associationPaths(core, service),
    ],
    createWorker: (options) => createWorker(options).worker,
    followedSecrets: async () => (await records.associatedSecretPaths()).map((s) => ({ mountAccessor: s.accessor, path: s.secret })),
    reviewEndpoints: async () => {
      const unconfirmed: string[] = [];
      for (const name of (await records.destinationNames('aws-sm')).sort()) {
        const d = (await records.destination('aws-sm', name))?.value;
        if (!d || !hasEndpointOverride(d) || d.endpoints_confirmed) continue;
        const c = d.connection;
        const urls = [c.endpoint_url && `endpoint_url=${c.endpoint_url}`, c.sts_endpoint_url && `sts_endpoint_url=${c.sts_endpoint_url}`].filter(Boolean);
        unconfirmed.push(`aws-sm/${name} (${urls.join(', ')})`);
      }
      if (unconfirmed.length === 0) return;
      core.log.warn(
        { destinations: unconfirmed },
        'secrets sync destinations send to endpoints stored before only sudo holders could set endpoint_url and sts_endpoint_url: ' +
          'they are kept; review them, and write each as a sudo holder to confirm it',
      );
    },
  };
}

/** The KV v2 engine as the secret source of sync (by mount accessor). */
export function kvSecretSource(mounts: Pick<MountTable, 'byAccessor'>, kv: Pick<KvFeature, 'readLatestForSync' | 'listSecretPaths'>): SecretSource {
  return {
    read: async (accessor, path) => {
      const mount = mounts.byAccessor(accessor);
      if (!mount || !isKvV2(mount)) return undefined;
      return kv.readLatestForSync(mount, path);
    },
    list: async (accessor, under, after, limit) => {
      const mount = mounts.byAccessor(accessor);
      if (!mount || !isKvV2(mount)) return [];
      return kv.listSecretPaths(mount, under, after, limit);
    },
  };
}
