import { z } from 'zod';
import { vBool, vString } from '../kernel/fields.js';
import { definePath, param, type PathSpec } from '../kernel/request.js';
import { syncErrors } from './errors.js';
import { planStep, type PlanStep } from './plans.js';
import type { PrefixAssociations } from './prefixes.js';
import type { SyncService } from './service.js';
import { prefixProgress } from './views.js';

const destinationParams = { type: param.segment(), name: param.segment() };
const prefixFields = { mount: vString(), prefix: vString(), dry_run: vBool() };

/** One prefix association as listed: names and counts only. */
const prefixEntry = z.object({ accessor: z.string(), ...prefixProgress.shape, created_at: z.string() });
const prefixesResponse = z.object({
  associated_prefixes: z.record(z.string(), prefixEntry),
  store_name: z.string(),
  store_type: z.string(),
  plan: z.array(planStep).optional(),
});

/**
 * `sys/sync/destinations/:type/:name/prefixes` and its `set` and `remove` actions (a Ferry
 * extension beside Vault's per-secret associations; `prefixes.ts`). Each action answers with the
 * destination's prefixes, and with `dry_run=true` with the plan (nothing changed).
 */
export function destinationPrefixPaths(sync: SyncService, prefixes: PrefixAssociations): PathSpec[] {
  const listed = async (type: string, name: string, plan?: PlanStep[]) => {
    if (!(await sync.getDestination(type, name))) throw syncErrors.destinationAbsent();
    const entries: Record<string, z.infer<typeof prefixEntry>> = {};
    for (const p of await prefixes.list(type, name)) {
      const { accessor, mount, prefix, state, brought_in, skipped, created_at } = p;
      entries[`${accessor}/${prefix}`] = { accessor, mount, prefix, state, brought_in, skipped, created_at };
    }
    return { data: { associated_prefixes: entries, store_name: name, store_type: type, ...(plan ? { plan } : {}) } };
  };

  return [
    definePath({
      pattern: 'sync/destinations/:type/:name/prefixes',
      params: destinationParams,
      operations: (op) => ({
        read: op({
          summary: "Lists the destination's prefix associations with their bring-in progress (a Ferry extension).",
          operationId: 'system-read-sync-destinations-type-name-prefixes',
          response: prefixesResponse,
          handler: (req) => listed(req.params.type, req.params.name),
        }),
      }),
    }),
    definePath({
      pattern: 'sync/destinations/:type/:name/prefixes/set',
      params: destinationParams,
      operations: (op) => ({
        write: op({
          summary: 'Associates every secret of a mount under a prefix (a folder) with the destination, existing and future ones (a Ferry extension).',
          operationId: 'system-write-sync-destinations-type-name-prefixes-set',
          fields: prefixFields,
          response: prefixesResponse,
          handler: async (req) => {
            const { type, name } = req.params;
            const plan = await prefixes.set(type, name, req.data.mount ?? '', req.data.prefix, req.token, { dryRun: req.data.dry_run === true });
            return listed(type, name, plan);
          },
        }),
      }),
    }),
    definePath({
      pattern: 'sync/destinations/:type/:name/prefixes/remove',
      params: destinationParams,
      operations: (op) => ({
        write: op({
          summary: 'Removes a prefix association: the secrets only it associated are unsynced (a Ferry extension).',
          operationId: 'system-write-sync-destinations-type-name-prefixes-remove',
          fields: prefixFields,
          response: prefixesResponse,
          handler: async (req) => {
            const { type, name } = req.params;
            const plan = await prefixes.remove(type, name, req.data.mount ?? '', req.data.prefix, { dryRun: req.data.dry_run === true });
            return listed(type, name, plan);
          },
        }),
      }),
    }),
  ];
}
