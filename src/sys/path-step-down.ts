import { definePath } from '../kernel/request.js';
import type { SystemDeps } from './deps.js';

/**
 * `sys/step-down` (sudo): `vault operator step-down`. A standby forwards it, so it always runs
 * on the active node: with HA that node stops its workers, gives the lock up and stays out of
 * the election for a cool-down (Vault's 10 s), so a standby takes over. A single node (no HA),
 * as a Vault node with no standby does, gives up nothing and stays active; the request is logged.
 */
export const stepDownPath = (deps: Pick<SystemDeps, 'log' | 'ha'>) =>
  definePath({
    pattern: 'step-down',
    sudo: true,
    operations: (op) => ({
      write: op({
        summary: 'Asks the active node to step down; a single Ferry node stays active.',
        operationId: 'step-down-leader',
        handler: async () => {
          if (!deps.ha.enabled) {
            deps.log.info('step-down requested: this is the only node, so it stays active');
            return;
          }
          deps.log.info('step-down requested');
          await deps.ha.stepDown();
        },
      }),
    }),
  });
