import { z } from 'zod';
import { vBool, vString } from '../kernel/fields.js';
import { definePath, param, type PathSpec } from '../kernel/request.js';
import { syncErrors } from './errors.js';
import type { SyncService } from './service.js';
import { planStep } from './plans.js';
import { associationEntries, associationsResponse } from './views.js';

const destinationParams = { type: param.segment(), name: param.segment() };
const sourceFields = { mount: vString(), secret_name: vString() };
/** Ferry's extensions of set and remove: `dry_run` answers the plan (`plans.ts`) and changes nothing; `adopt` (set, sudo) takes over a pre-existing AWS secret. */
const setFields = { ...sourceFields, adopt: vBool(), dry_run: vBool() };
const removeFields = { ...sourceFields, dry_run: vBool() };
const withPlan = associationsResponse.extend({ plan: z.array(planStep).optional() });

/**
 * `sys/sync/destinations/:type/:name/associations` and its `set`, `remove` and `retry` actions.
 * Each action answers with the destination's associations, as Vault's do (`retry`, a Ferry
 * extension, also with how many it re-queued).
 */
export function destinationAssociationPaths(sync: SyncService): PathSpec[] {
  const associationsOf = async (type: string, name: string) => {
    if (!(await sync.getDestination(type, name))) throw syncErrors.destinationAbsent();
    const entries = Object.assign({}, ...(await sync.associationsForDisplay(type, name)).map(associationEntries));
    return { data: { associated_secrets: entries, store_name: name, store_type: type } };
  };

  return [
    definePath({
      pattern: 'sync/destinations/:type/:name/associations',
      params: destinationParams,
      operations: (op) => ({
        read: op({
          summary: 'Lists the associations of a destination with their sync status.',
          operationId: 'system-read-sync-destinations-type-name-associations',
          response: associationsResponse,
          handler: (req) => associationsOf(req.params.type, req.params.name),
        }),
      }),
    }),
    definePath({
      pattern: 'sync/destinations/:type/:name/associations/set',
      params: destinationParams,
      operations: (op) => ({
        write: op({
          summary: 'Associates a secret with the destination and syncs it (or re-syncs it).',
          operationId: 'system-write-sync-destinations-type-name-associations-set',
          fields: setFields,
          response: withPlan,
          handler: async (req) => {
            const { type, name } = req.params;
            const plan = await sync.setAssociation(type, name, req.data.mount ?? '', req.data.secret_name ?? '', req.token, {
              adopt: req.data.adopt === true,
              dryRun: req.data.dry_run === true,
            });
            const listed = await associationsOf(type, name);
            return plan ? { data: { ...listed.data, plan } } : listed;
          },
        }),
      }),
    }),
    definePath({
      pattern: 'sync/destinations/:type/:name/associations/retry',
      params: destinationParams,
      operations: (op) => ({
        write: op({
          summary:
            "Re-queues the destination's failed associations at once, or the one mount and secret_name name, with their attempts reset (a Ferry extension).",
          operationId: 'system-write-sync-destinations-type-name-associations-retry',
          fields: sourceFields,
          response: associationsResponse.extend({ retried: z.number().int() }),
          handler: async (req) => {
            const { type, name } = req.params;
            const retried = await sync.retryAssociations(type, name, req.data.mount ?? '', req.data.secret_name ?? '');
            const listed = await associationsOf(type, name);
            return { data: { ...listed.data, retried } };
          },
        }),
      }),
    }),
    definePath({
      pattern: 'sync/destinations/:type/:name/associations/remove',
      params: destinationParams,
      operations: (op) => ({
        write: op({
          summary: 'Unsyncs a secret from the destination and removes the association.',
          operationId: 'system-write-sync-destinations-type-name-associations-remove',
          fields: removeFields,
          response: withPlan,
          handler: async (req) => {
            const { type, name } = req.params;
            const plan = await sync.removeAssociation(type, name, req.data.mount ?? '', req.data.secret_name ?? '', { dryRun: req.data.dry_run === true });
            const listed = await associationsOf(type, name);
            return plan ? { data: { ...listed.data, plan } } : listed;
          },
        }),
      }),
    }),
  ];
}
