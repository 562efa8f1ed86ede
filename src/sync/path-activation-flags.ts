import { defineOperation, type PathSpec } from '../kernel/request.js';

/**
 * `sys/activation-flags`: Vault Enterprise makes secrets sync a feature to activate; Ferry has
 * it always on and answers the calls scripts make. (By the URL rule this belongs in `src/sys/`;
 * it stays with the feature it reports on until the system backend collects its own paths.)
 */
const activation = { data: { activated: ['secrets-sync'], unactivated: [] } };

export function activationFlagPaths(): PathSpec[] {
  return [
    {
      pattern: 'activation-flags',
      unauthenticated: true,
      operations: {
        read: defineOperation({
          summary: 'Reports activated features (secrets sync is always active in Ferry).',
          operationId: 'system-read-activation-flags',
          handler: async () => activation,
        }),
      },
    },
    {
      pattern: 'activation-flags/secrets-sync/activate',
      operations: {
        write: defineOperation({
          summary: 'Activates secrets sync (accepted for Vault Enterprise scripts; always active).',
          operationId: 'system-write-activation-flags-secrets-sync-activate',
          handler: async () => activation,
        }),
      },
    },
  ];
}
