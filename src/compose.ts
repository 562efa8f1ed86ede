import { randomUUID } from 'node:crypto';
import pino, { type Logger } from 'pino';
import type { Core } from './core.js';
import type { ServerInfo } from './kernel/services.js';
import { type Backend, type PathSpec, defineOperation } from './kernel/request.js';
import { buildOpenApi, type DocumentedBackend } from './http/openapi.js';
import { SqliteStore } from './store/sqlite.js';
import { BarrierStore } from './store/barrier.js';
import type { Store } from './store/store.js';
import { MountTable, isKvV2 } from './sys/mount-table.js';
import type { MountEntry } from './kernel/entries.js';
import { TokenStore } from './auth/token-store.js';
import { tokenPaths as tokenRoutes } from './auth/token-routes.js';
import { AclAuthorizer } from './auth/acl.js';
import { PolicyStore } from './auth/policy-store.js';
import { AuditBroker } from './audit/broker.js';
import { SealManager } from './seal/seal-manager.js';
import { sealPaths } from './sys/seal.js';
import { policyPaths } from './sys/policies.js';
import { capabilityPaths } from './sys/capabilities.js';
import { auditPaths } from './sys/audit.js';
import { healthPaths } from './sys/health.js';
import { mountPaths } from './sys/mounts.js';
import { internalUiPaths } from './sys/internal-ui.js';
import { createExpirySweep, kvBackends, type ExpirySweep } from './kv/index.js';
import { createSecretsSyncTokenSigner, identityPaths } from './identity/index.js';
import { NotifyingStore } from './store/notifying.js';
import { ReadCachingStore } from './store/read-cache.js';
import { createSyncFeature, kvSecretSource, type SyncFeature, type SyncWorkerOptions } from './sync/index.js';

export const FERRY_VERSION = '0.1.0';

export interface CoreOptions {
  /** SQLite file, or `:memory:` for the dev server. */
  storagePath: string;
  dev: boolean;
  /** Dev root token id; random when absent. */
  devRootTokenId?: string;
  apiAddr?: string;
  logger?: Logger;
  clock?: () => number;
  maxRequestSize?: number;
  /** Sync worker tuning; `start: false` leaves it stopped (tests drive `drainOnce`). */
  syncWorker?: SyncWorkerOptions & { start?: boolean };
}

/** The security services behind the Core interfaces, for tests, benchmarks and operators' tooling. */
export interface Security {
  barrier: BarrierStore;
  seal: SealManager;
  policies: PolicyStore;
  authorizer: AclAuthorizer;
  audit: AuditBroker;
}

export interface Server {
  core: Core;
  /** The root token, in dev mode only (printed at start, as Vault's dev server does). */
  rootToken?: string;
  /** Dev mode only: the single unseal key share (base64), for seal/unseal tests. Never printed. */
  devUnsealKey?: string;
  security: Security;
  /** Every backend with the prefix it serves, for routing and for the OpenAPI document. */
  documented: DocumentedBackend[];
  /** Secrets sync: its API rules, AWS adapters and delivery worker. */
  sync: SyncFeature;
  /** KV's report of `delete_version_after` expiries of synced secrets; runs beside the worker. */
  expirySweep: ExpirySweep;
  close(): Promise<void>;
}

/** Builds the domain services and the backends that serve each mount type. */
export async function createServer(opts: CoreOptions): Promise<Server> {
  const log = opts.logger ?? pino({ level: 'silent' });
  const clock = opts.clock ?? Date.now;
  // Services built after `core` whose in-memory state the seal hooks must drop.
  const sealDependents: { reset(): void }[] = [];
  // Every service sees only the barrier: nothing reaches SQLite unencrypted.
  const barrier = new BarrierStore(new SqliteStore({ path: opts.storagePath, clock }));
  // Commits that enqueue outbox operations wake the sync worker at once.
  // Hot entries are served decrypted from memory; only this process writes the SQLite file.
  const cached = new ReadCachingStore(barrier);
  const notifying = new NotifyingStore(cached);
  const store: Store = notifying;
  const mounts = new MountTable(store);
  const tokens = new TokenStore(store, clock);
  const policies = new PolicyStore(store);
  const authorizer = new AclAuthorizer(policies);
  const audit = new AuditBroker(store, log, clock);
  const seal = new SealManager(
    barrier,
    {
      // What lives behind the barrier is loaded when it opens and forgotten when it closes.
      afterUnseal: async () => {
        await mounts.load();
        await policies.ensureDefault();
        await audit.load();
      },
      beforeSeal: async () => {
        for (const dependent of sealDependents) dependent.reset();
        tokens.reset();
        policies.reset();
        audit.reset();
      },
      createRootToken: async (id) =>
        (await tokens.create({ id, policies: ['root'], parent: null, ttl: 0, display_name: 'root', path: 'auth/token/root' })).id,
    },
    clock,
  );
  await seal.load();
  const info: ServerInfo = {
    version: FERRY_VERSION,
    buildDate: '2026-11-29T00:00:00Z',
    clusterName: 'ferry-cluster',
    clusterId: randomUUID(),
    storageType: opts.dev ? 'inmem' : 'sqlite',
    apiAddr: opts.apiAddr ?? '',
    dev: opts.dev,
  };

  const systemPaths: PathSpec[] = [];
  const tokenPaths: PathSpec[] = [];
  const system: Backend = { mountType: 'system', paths: systemPaths };
  const token: Backend = { mountType: 'token', paths: tokenPaths };
  const identityPathList: PathSpec[] = [];
  const identity: Backend = { mountType: 'identity', paths: identityPathList };
  const engines: Record<string, Backend> = {};

  const core: Core = {
    store,
    mounts,
    tokens,
    authorizer,
    seal,
    audit,
    backendFor: (mount: MountEntry) => {
      switch (mount.type) {
        case 'system':
          return system;
        case 'token':
          return token;
        case 'identity':
          return identity;
        case 'kv':
          return engines[isKvV2(mount) ? 'kv-v2' : 'kv-v1'];
        default:
          return undefined;
      }
    },
    clock,
    log,
    info,
    unmountGuards: [],
    maxRequestSize: opts.maxRequestSize ?? 32 * 1024 * 1024,
  };

  const signer = createSecretsSyncTokenSigner(core);

  const documented: DocumentedBackend[] = [
    { prefix: 'sys/', backend: system, tag: 'system' },
    { prefix: 'auth/token/', backend: token, tag: 'auth' },
    { prefix: 'identity/', backend: identity, tag: 'identity' },
  ];

  systemPaths.push(
    ...healthPaths(core),
    ...sealPaths(core, seal, barrier),
    ...mountPaths(core),
    ...internalUiPaths(core),
    ...policyPaths(core, policies),
    ...capabilityPaths(core),
    ...auditPaths(core, audit),
  );
  systemPaths.push({
    pattern: 'internal/specs/openapi',
    unauthenticated: true,
    raw: true,
    operations: {
      read: defineOperation({
        summary: 'Returns the OpenAPI document of the API this server serves.',
        operationId: 'internal-generate-open-api-document',
        handler: async () => ({ raw: buildOpenApi(documented, FERRY_VERSION) }),
      }),
    },
  });
  tokenPaths.push(...tokenRoutes(core));
  identityPathList.push(...identityPaths(core));
  const sync = createSyncFeature(core, { source: kvSecretSource(core), signer, worker: opts.syncWorker });
  sealDependents.push(signer, sync.adapters, cached);
  systemPaths.push(...sync.paths);
  notifying.onEnqueue(() => sync.worker.notify());
  const expirySweep = createExpirySweep(core, () => sync.followedSecrets());
  const kv = kvBackends(core);
  engines['kv-v1'] = kv.v1;
  engines['kv-v2'] = kv.v2;
  documented.push(
    { prefix: '{kv_v2_mount_path}/', backend: kv.v2, tag: 'secrets' },
    { prefix: '{kv_v1_mount_path}/', backend: kv.v1, tag: 'secrets' },
  );

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

  // A sealed server delivers nothing: the worker idles until unseal.
  if (opts.syncWorker?.start !== false) {
    sync.worker.start();
    expirySweep.start();
  }

  return {
    core,
    rootToken,
    devUnsealKey,
    sync,
    expirySweep,
    security: { barrier, seal, policies, authorizer, audit },
    documented,
    close: async () => {
      await expirySweep.stop();
      await sync.worker.stop();
      sync.adapters.reset();
      // Closing the barrier drops the keys from memory before the database closes.
      await barrier.close();
    },
  };
}
