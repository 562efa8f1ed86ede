import { z } from 'zod';
import { vString } from '../kernel/fields.js';
import { defineOperation, type PathSpec } from '../kernel/request.js';
import { syncErrors } from './errors.js';
import type { SyncService } from './service.js';
import { associationEntries, associationsResponse } from './views.js';

const destinationParams = z.object({ type: z.string(), name: z.string() });
const sourceFields = { mount: vString(), secret_name: vString() };

/**
 * `sys/sync/destinations/:type/:name/associations` and its `set` and `remove` actions. Both
 * actions answer with the destination's associations, as Vault does.
 */
export function destinationAssociationPaths(sync: SyncService): PathSpec[] {
  const associationsOf = async (type: string, name: string) => {
    if (!(await sync.getDestination(type, name))) throw syncErrors.destinationAbsent();
    const entries = Object.assign({}, ...(await sync.associationsForDisplay(type, name)).map(associationEntries));
    return { data: { associated_secrets: entries, store_name: name, store_type: type } };
  };

  return [
    {
      pattern: 'sync/destinations/:type/:name/associations',
      operations: {
        read: defineOperation({
          summary: 'Lists the associations of a destination with their sync status.',
          operationId: 'system-read-sync-destinations-type-name-associations',
          response: associationsResponse,
          handler: async (req) => {
            const { type, name } = destinationParams.parse(req.params);
            return associationsOf(type, name);
          },
        }),
      },
    },
    {
      pattern: 'sync/destinations/:type/:name/associations/set',
      operations: {
        write: defineOperation({
          summary: 'Associates a secret with the destination and syncs it (or re-syncs it).',
          operationId: 'system-write-sync-destinations-type-name-associations-set',
          fields: sourceFields,
          response: associationsResponse,
          handler: async (req) => {
            const { type, name } = destinationParams.parse(req.params);
            await sync.setAssociation(type, name, req.data.mount ?? '', req.data.secret_name ?? '', req.token);
            return associationsOf(type, name);
          },
        }),
      },
    },
    {
      pattern: 'sync/destinations/:type/:name/associations/remove',
      operations: {
        write: defineOperation({
          summary: 'Unsyncs a secret from the destination and removes the association.',
          operationId: 'system-write-sync-destinations-type-name-associations-remove',
          fields: sourceFields,
          response: associationsResponse,
          handler: async (req) => {
            const { type, name } = destinationParams.parse(req.params);
            await sync.removeAssociation(type, name, req.data.mount ?? '', req.data.secret_name ?? '');
            return associationsOf(type, name);
          },
        }),
      },
    },
  ];
}
