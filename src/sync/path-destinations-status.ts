import { z } from 'zod';
import { definePath, param, type PathSpec } from '../kernel/request.js';
import { syncErrors } from './errors.js';
import { prefixProgress } from './views.js';

const countByStatus = z.record(z.string(), z.number().int());

/** The summary's schema: the allow-list of what it may show (names, counts and times; never a value). */
export const destinationStatusResponse = z.object({
  name: z.string(),
  type: z.string(),
  associations: z.number().int(),
  sync_status_counts: countByStatus,
  with_last_error: z.number().int(),
  queue_depth: z.number().int(),
  oldest_pending_seconds: z.number().int(),
  last_success_at: z.string().optional(),
  /**
   * Prefix associations (a Ferry extension): `brought_in` secrets associated through it so far,
   * `skipped` ones the setter's policies may not read, `pending` ones associated and not synced yet.
   */
  prefixes: z.array(prefixProgress.extend({ pending: z.number().int() })).optional(),
  aws: z.object({
    state: z.enum(['ok', 'throttled', 'unavailable']),
    since: z.string(),
    next_probe_at: z.string().optional(),
    throttled_answers: z.number().int(),
  }),
  budget_per_second: z.record(z.string(), z.number()),
  drift_repair: z.object({
    state: z.enum(['on', 'off', 'unavailable']),
    interval_seconds: z.number().int(),
    missing_permission: z.string().optional(),
    last_pass_at: z.string().optional(),
    next_pass_at: z.string().optional(),
    last_pass: z.object({ checked: z.number().int(), suspects: z.number().int(), confirmed: z.number().int() }).optional(),
    repairs_queued: z.number().int(),
  }),
});

/** `sys/sync/destinations/:type/:name/status`: a destination's status summary (a Ferry extension; `status.ts`). */
export function destinationStatusPaths(summary: (type: string, name: string) => Promise<Record<string, unknown> | undefined>): PathSpec[] {
  return [
    definePath({
      pattern: 'sync/destinations/:type/:name/status',
      params: { type: param.segment(), name: param.segment() },
      operations: (op) => ({
        read: op({
          summary: "Summarises a destination's sync state: statuses counted, queue, AWS throttling and budget, drift repair (a Ferry extension).",
          operationId: 'system-read-sync-destinations-type-name-status',
          response: destinationStatusResponse,
          handler: async (req) => {
            const data = await summary(req.params.type, req.params.name);
            if (!data) throw syncErrors.destinationAbsent();
            return { data };
          },
        }),
      }),
    }),
  ];
}
