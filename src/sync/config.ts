import { z } from 'zod';
import type { Store } from '../store/store.js';
import { keys } from './model.js';

/** `sys/sync/config`: the emergency brake and the queue capacity. */
export interface SyncConfig {
  disabled: boolean;
  queue_capacity: number;
}

export const DEFAULT_SYNC_CONFIG: SyncConfig = { disabled: false, queue_capacity: 1_000_000 };

const stored = z.object({ disabled: z.boolean(), queue_capacity: z.number().int() });

export async function readSyncConfig(store: Store): Promise<SyncConfig> {
  const row = await store.get(keys.config);
  if (!row) return { ...DEFAULT_SYNC_CONFIG };
  return stored.parse(JSON.parse(row.value.toString('utf8')));
}
