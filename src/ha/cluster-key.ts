import { randomBytes } from 'node:crypto';
import { RevisionConflict, type Store } from '../store/store.js';

/** Behind the barrier: only an unsealed node of this cluster can read it. */
const CLUSTER_KEY_PATH = 'core/ha/cluster-key';

/** The PSK identity nodes present to each other (the key, not the name, is the secret). */
export const CLUSTER_PSK_IDENTITY = 'ferry-cluster';

/**
 * The key the nodes of one cluster authenticate each other with on the cluster channel
 * (TLS-PSK, `src/http/cluster-tls.ts`): 256 random bits made by the first node that needs it,
 * stored behind the barrier like every other secret, read at unseal and forgotten at seal. A
 * sealed node does not know it, so it can neither forward nor accept forwarded requests, and
 * nobody without the unseal keys (or the database plus the unseal keys) can join the channel.
 */
export class ClusterKey {
  private key: Buffer | undefined;

  constructor(private readonly store: Store) {}

  /** The key, if this node is unsealed and has loaded it. */
  current(): Buffer | undefined {
    return this.key;
  }

  /** Reads the key, creating it on first use (a concurrent creation by another node wins). */
  async load(): Promise<void> {
    for (;;) {
      const row = await this.store.get(CLUSTER_KEY_PATH);
      if (row) {
        this.key = Buffer.from(row.value.toString('utf8'), 'base64');
        return;
      }
      const fresh = randomBytes(32);
      try {
        await this.store.commit([{ kind: 'put', key: CLUSTER_KEY_PATH, value: Buffer.from(fresh.toString('base64')) }], [{ key: CLUSTER_KEY_PATH, revision: 0 }]);
      } catch (err) {
        if (!(err instanceof RevisionConflict)) throw err;
      }
    }
  }

  reset(): void {
    this.key?.fill(0);
    this.key = undefined;
  }
}
