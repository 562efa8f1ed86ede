import type { Logger } from 'pino';
import type { OutboxItem, Store } from '../store/store.js';

export type Settlement = Parameters<Store['settleOutbox']>[2];

/**
 * Settles a claimed sync item, trying a few times when the store refuses (a busy database); if it
 * still refuses, the item is left claimed: its lease hands it out again, and reconciling it again
 * is harmless (it reads the latest state, and its AWS writes are idempotent).
 */
export async function settleOrLeave(
  deps: { store: Pick<Store, 'settleOutbox'>; log: Pick<Logger, 'error'> },
  owner: string,
  item: OutboxItem,
  settlement: Settlement,
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await deps.store.settleOutbox(item.id, owner, settlement);
      return;
    } catch (err) {
      if (attempt >= 5) {
        deps.log.error({ err: { message: (err as Error).message }, orderKey: item.orderKey }, 'sync could not settle a delivery; its lease will hand it out again');
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
    }
  }
}
