import { definePath } from '../kernel/request.js';
import type { SystemDeps } from './deps.js';
import { sealStatusBody } from './seal-view.js';

/** `sys/seal-status`: raw, unauthenticated, answered while sealed. */
export const sealStatusPath = (deps: Pick<SystemDeps, 'seal' | 'info'>) =>
  definePath({
    pattern: 'seal-status',
    unauthenticated: true,
    whileSealed: true,
    raw: true,
    operations: (op) => ({
      read: op({
        summary: 'Returns the seal status of the server.',
        operationId: 'system-read-seal-status',
        handler: async () => ({ raw: sealStatusBody(deps) }),
      }),
    }),
  });
