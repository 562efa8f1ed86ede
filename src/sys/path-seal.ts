import { definePath } from '../kernel/request.js';
import type { SystemDeps } from './deps.js';

/** `sys/seal` (sudo). */
export const sealPath = (deps: Pick<SystemDeps, 'seal'>) =>
  definePath({
    pattern: 'seal',
    sudo: true,
    operations: (op) => ({
      write: op({
        summary: 'Seals the server: drops the root key and every cached secret from memory.',
        operationId: 'system-write-seal',
        handler: async () => {
          await deps.seal.seal();
        },
      }),
    }),
  });
