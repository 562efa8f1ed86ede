import { z } from 'zod';
import { definePath } from '../kernel/request.js';
import type { SystemDeps } from './deps.js';

/** `sys/key-status` (sudo, an injector path): the barrier's active data encryption key. */
export const keyStatusPath = (deps: Pick<SystemDeps, 'barrier'>) =>
  definePath({
    pattern: 'key-status',
    sudo: true,
    injector: true,
    operations: (op) => ({
      read: op({
        summary: 'Returns the term and install time of the active data encryption key.',
        operationId: 'encryption-key-status',
        response: z.object({ term: z.number().int(), install_time: z.string(), encryptions: z.number().int() }),
        handler: async () => {
          const s = deps.barrier.keyStatus();
          return { data: { term: s.term, install_time: s.installTime, encryptions: s.encryptions } };
        },
      }),
    }),
  });
