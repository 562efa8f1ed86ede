import { definePath, type PathSpec } from '../kernel/request.js';

/**
 * `sys/activation-flags`: Vault Enterprise makes secrets sync a feature to activate; Ferry has
 * it always on and answers the calls scripts make.
 */
const activation = { data: { activated: ['secrets-sync'], unactivated: [] } };

export const activationFlagsPaths = (): PathSpec[] => [
  definePath({
    pattern: 'activation-flags',
    unauthenticated: true,
    operations: (op) => ({
      read: op({
        summary: 'Reports activated features (secrets sync is always active in Ferry).',
        operationId: 'system-read-activation-flags',
        handler: async () => activation,
      }),
    }),
  }),
  definePath({
    pattern: 'activation-flags/secrets-sync/activate',
    operations: (op) => ({
      write: op({
        summary: 'Activates secrets sync (accepted for Vault Enterprise scripts; always active).',
        operationId: 'system-write-activation-flags-secrets-sync-activate',
        handler: async () => activation,
      }),
    }),
  }),
];
