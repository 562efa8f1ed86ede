import type { Core } from '../core.js';
import type { PathSpec } from '../kernel/request.js';
import { AwsAdapterRegistry } from './aws-sm/adapter.js';
import type { WebIdentitySigner } from './aws-sm/credentials.js';
import type { AdapterRegistry } from './port.js';
import { syncPaths } from './routes.js';
import { SyncService } from './service.js';
import type { SecretSource } from './source.js';
import { observeExpiry, readLatestForSync } from '../kv/index.js';
import { isKvV2 } from '../sys/mount-table.js';
import { SyncWorker, type SyncWorkerOptions } from './worker.js';

export interface SyncFeature {
  service: SyncService;
  worker: SyncWorker;
  adapters: AdapterRegistry;
  /** The `sys/sync/*` and `sys/activation-flags` paths, for the system backend. */
  paths: PathSpec[];
}

export interface SyncFeatureDeps {
  source: SecretSource;
  signer?: WebIdentitySigner & { keyExists?(name: string): Promise<boolean> };
  worker?: SyncWorkerOptions;
}

/** Builds secrets sync: the API rules, the AWS adapter registry and the delivery worker. */
export function createSyncFeature(core: Core, deps: SyncFeatureDeps): SyncFeature {
  const service = new SyncService({
    core,
    source: deps.source,
    identityKeyExists: deps.signer?.keyExists ? (name) => deps.signer!.keyExists!(name) : undefined,
  });
  const adapters = new AwsAdapterRegistry({ signer: deps.signer, clock: core.clock });
  const worker = new SyncWorker(core, service, deps.source, adapters, deps.worker, observeExpiry);
  core.unmountGuards.push((mount) => service.guardUnmount(mount));
  return { service, worker, adapters, paths: syncPaths(core, service) };
}

/** The KV v2 engine as the secret source of sync (by mount accessor). */
export function kvSecretSource(core: Core): SecretSource {
  return {
    read: async (accessor, path) => {
      const mount = core.mounts.byAccessor(accessor);
      if (!mount || !isKvV2(mount)) return undefined;
      return readLatestForSync(core, mount, path);
    },
  };
}
