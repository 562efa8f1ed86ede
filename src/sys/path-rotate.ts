import { definePath } from '../kernel/request.js';
import type { SystemDeps } from './deps.js';

/** `sys/rotate` (sudo): a new data encryption key for the barrier. */
export const rotatePath = (deps: Pick<SystemDeps, 'barrier' | 'clock' | 'log'>) =>
  definePath({
    pattern: 'rotate',
    sudo: true,
    operations: (op) => ({
      write: op({
        summary: 'Adds a new data encryption key to the keyring; new writes use it, older values keep decrypting.',
        operationId: 'encryption-key-rotate',
        handler: async () => {
          const t = await deps.barrier.rotate(new Date(deps.clock()));
          deps.log.info({ term: t.term }, 'barrier key rotated');
        },
      }),
    }),
  });
