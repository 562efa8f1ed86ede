import type { Logger } from 'pino';
import type { Authorizer, SealState } from '../kernel/services.js';
import type { Store } from '../store/store.js';
import type { MountTable } from '../sys/mount-table.js';

/** What secrets sync needs from the rest of the server, wired in the composition root. */
export interface SyncDeps {
  store: Store;
  mounts: Pick<MountTable, 'get' | 'byAccessor' | 'resolve'>;
  authorizer: Authorizer;
  seal: SealState;
  clock: () => number;
  log: Logger;
  /** This cluster's stable id (`sys/cluster-identity.ts`), the first part of every owner tag. */
  clusterId(): Promise<string>;
}
