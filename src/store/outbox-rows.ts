import type { OutboxItem } from './store.js';

/** An outbox row as both SQL drivers select it (their columns have the same names). */
export interface OutboxRow {
  id: number;
  queue: string;
  order_key: string;
  payload: string;
  attempts: number;
  available_at: number;
  created_at: number;
}

/** The port's item for a selected row. */
export const outboxItemOf = (r: OutboxRow): OutboxItem => ({
  id: r.id,
  queue: r.queue,
  orderKey: r.order_key,
  payload: r.payload,
  attempts: r.attempts,
  availableAt: r.available_at,
  createdAt: r.created_at,
});
