import { randomUUID } from 'node:crypto';
import type { ServerInfo } from '../kernel/services.js';
import { RevisionConflict, type Store } from '../store/store.js';

/** Vault's `core/cluster/local/info`, behind the barrier. */
const CLUSTER_KEY = 'core/cluster';
/**
 * Where the secrets-sync owner tag kept its cluster id before the cluster had one of its own.
 * A store that has it keeps that id, so the owner tags already in AWS stay this cluster's.
 */
const LEGACY_SYNC_KEY = 'sync/cluster-id';

/**
 * This cluster's id: random once, stored behind the barrier, the same for every process and
 * every restart on the same storage. `sys/seal-status` and `sys/health` report it once unsealed
 * (Vault omits it while sealed: it cannot read it then), and secrets sync names the cluster with
 * it in the owner tag of every secret it syncs.
 */
export class ClusterIdentity {
  private loading: Promise<string> | undefined;

  constructor(
    private readonly store: Store,
    private readonly info: Pick<ServerInfo, 'clusterId'>,
  ) {}

  /** The id (read or created on first use after an unseal); also published in `info.clusterId`. */
  id(): Promise<string> {
    this.loading ??= this.load().catch((err: unknown) => {
      this.loading = undefined;
      throw err;
    });
    return this.loading;
  }

  /** Forgets the id read (on seal: a snapshot restore may bring another cluster's store). */
  reset(): void {
    this.loading = undefined;
    this.info.clusterId = '';
  }

  private async load(): Promise<string> {
    for (;;) {
      const row = await this.store.get(CLUSTER_KEY);
      if (row) {
        const { id } = JSON.parse(row.value.toString('utf8')) as { id: string };
        this.info.clusterId = id;
        return id;
      }
      const legacy = await this.store.get(LEGACY_SYNC_KEY);
      const id = legacy ? (JSON.parse(legacy.value.toString('utf8')) as { id: string }).id : randomUUID();
      try {
        await this.store.commit([{ kind: 'put', key: CLUSTER_KEY, value: Buffer.from(JSON.stringify({ id })) }], [{ key: CLUSTER_KEY, revision: 0 }]);
      } catch (err) {
        // Created meanwhile by a concurrent unseal: read that one.
        if (!(err instanceof RevisionConflict)) throw err;
      }
    }
  }
}
