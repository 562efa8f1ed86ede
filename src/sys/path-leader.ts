import { sealed } from '../kernel/errors.js';
import { definePath } from '../kernel/request.js';
import type { SystemDeps } from './deps.js';

/**
 * `sys/leader`: raw, unauthenticated; Ferry runs without HA. While sealed it answers as Vault on
 * integrated storage does, 503 "Vault is sealed" (`vault status` tolerates exactly that error).
 */
export const leaderPath = (deps: Pick<SystemDeps, 'seal'>) =>
  definePath({
    pattern: 'leader',
    unauthenticated: true,
    whileSealed: true,
    raw: true,
    operations: (op) => ({
      read: op({
        summary: 'Returns the high availability status and current leader.',
        operationId: 'system-read-leader',
        handler: async () => {
          if (deps.seal.status().sealed) throw sealed();
          return {
            raw: {
              ha_enabled: false,
              is_self: false,
              active_time: '0001-01-01T00:00:00Z',
              leader_address: '',
              leader_cluster_address: '',
              performance_standby: false,
              performance_standby_last_remote_wal: 0,
            },
          };
        },
      }),
    }),
  });
