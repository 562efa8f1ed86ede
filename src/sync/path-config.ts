import { vBool, vDuration, vInt } from '../kernel/fields.js';
import { syncErrors } from './errors.js';
import { definePath, type PathSpec } from '../kernel/request.js';
import type { SyncConfig } from './model.js';
import type { SyncService } from './service.js';
import { configResponse } from './views.js';

/**
 * `sys/sync/config`: the emergency brake (`disabled`), the queue capacity, and Ferry's
 * `reconcile_interval` (drift repair; a duration, read back in seconds) and
 * `write_budget_per_second` (the AWS write budget of each destination and quota group).
 */
export function configPaths(sync: SyncService): PathSpec[] {
  return [
    definePath({
      pattern: 'sync/config',
      operations: (op) => {
        // PATCH (merge patch, as Vault documents it) and POST/PUT (what `vault write` sends) do the same.
        const update = (summary: string, operationId: string) =>
          op({
            summary,
            operationId,
            fields: { disabled: vBool(), queue_capacity: vInt(), reconcile_interval: vDuration(), write_budget_per_second: vInt() },
            response: configResponse,
            handler: async (req) => {
              const change: Partial<SyncConfig> = {};
              if (req.data.disabled !== undefined) change.disabled = req.data.disabled;
              if (req.data.queue_capacity !== undefined) change.queue_capacity = req.data.queue_capacity;
              if (req.data.write_budget_per_second !== undefined) change.write_budget_per_second = req.data.write_budget_per_second;
              if (req.data.reconcile_interval !== undefined) {
                // Durations truncate to whole seconds: "500ms" would read as 0 (off); only a written zero turns it off.
                const raw = req.raw.reconcile_interval;
                if (req.data.reconcile_interval === 0 && /[1-9]/.test(String(raw))) throw syncErrors.reconcileInterval();
                change.reconcile_interval = req.data.reconcile_interval;
              }
              return { data: { ...(await sync.updateConfig(change)) } };
            },
          });
        return {
          read: op({
            summary: 'Reads the secrets sync configuration.',
            operationId: 'system-read-sync-config',
            response: configResponse,
            handler: async () => ({ data: { ...(await sync.config()) } }),
          }),
          patch: update('Updates the secrets sync configuration (merge patch).', 'system-patch-sync-config'),
          write: update('Updates the secrets sync configuration.', 'system-write-sync-config'),
          delete: op({
            summary: 'Resets the secrets sync configuration to its defaults.',
            operationId: 'system-delete-sync-config',
            handler: async () => {
              await sync.updateConfig(null);
            },
          }),
        };
      },
    }),
  ];
}
