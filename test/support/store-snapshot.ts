import type { Store } from '../../src/store/store.js';

/** The outbox queues Ferry writes: KV change events, sync operations and prefix steps. */
const QUEUES = ['kv-events', 'sync', 'sync-prefix'];

/** Fields whose change is bookkeeping, not a change of what is stored: times, and a token's remaining uses. */
const VOLATILE = /(^|_)(time|created|updated|at)$|^(createdAt|updatedAt|availableAt|num_uses)$/;

function stripVolatile(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stripVolatile);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([k]) => !VOLATILE.test(k))
        .map(([k, v]) => [k, stripVolatile(v)]),
    );
  }
  return value;
}

function decode(value: Buffer): unknown {
  const text = value.toString('utf8');
  try {
    return stripVolatile(JSON.parse(text));
  } catch {
    return `bytes:${value.toString('base64')}`;
  }
}

/**
 * The logical contents of a store, read through the store port (so it works for any driver
 * and above the encryption barrier): every entry by key with its value decoded, and the
 * pending outbox operations of every queue. Revisions, outbox ids and attempt counts, times
 * and a token's remaining uses are left out — they may move on a request that is refused
 * without anything having been stored. Two snapshots are equal when nothing was stored.
 */
export async function logicalSnapshot(store: Store): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const entry of await store.scan('')) out[`entry:${entry.key}`] = decode(entry.value);
  for (const queue of QUEUES) {
    const pending = await store.pendingOutbox(queue, 100_000);
    out[`outbox:${queue}`] = pending.map((item) => ({ orderKey: item.orderKey, payload: decode(Buffer.from(item.payload)) }));
  }
  return out;
}
