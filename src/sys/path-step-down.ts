import { definePath } from '../kernel/request.js';
import type { SystemDeps } from './deps.js';

/**
 * `sys/step-down` (sudo): `vault operator step-down`. Ferry runs one node, so, as a Vault node
 * with no standby does, it gives up nothing and stays active; the request is logged.
 */
export const stepDownPath = (deps: Pick<SystemDeps, 'log'>) =>
  definePath({
    pattern: 'step-down',
    sudo: true,
    operations: (op) => ({
      write: op({
        summary: 'Asks the active node to step down; a single Ferry node stays active.',
        operationId: 'step-down-leader',
        handler: async () => {
          deps.log.info('step-down requested: this is the only node, so it stays active');
        },
      }),
    }),
  });
