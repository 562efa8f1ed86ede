import { ForwardingStore } from './forwarding.js';
import type { RevisionCheck, WriteOp } from './store.js';

/**
 * A Store decorator that tells listeners when a commit appended outbox operations, so the
 * sync worker wakes at once instead of waiting for its next poll. Polling stays as the
 * fallback (and is what another node sharing a database would rely on).
 */
export class NotifyingStore extends ForwardingStore {
  private readonly listeners = new Set<(queues: Set<string>) => void>();

  onEnqueue(listener: (queues: Set<string>) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  override async commit(ops: WriteOp[], checks?: RevisionCheck[]): Promise<number | undefined | void> {
    const revision = await this.inner.commit(ops, checks);
    const queues = new Set(ops.filter((o) => o.kind === 'enqueue').map((o) => (o as { queue: string }).queue));
    if (queues.size > 0) for (const l of this.listeners) l(queues);
    return revision;
  }
}
