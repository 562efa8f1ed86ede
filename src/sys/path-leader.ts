import { definePath } from '../kernel/request.js';

/** `sys/leader`: raw, unauthenticated, answered while sealed; Ferry runs without HA. */
export const leaderPath = () =>
  definePath({
    pattern: 'leader',
    unauthenticated: true,
    whileSealed: true,
    raw: true,
    operations: (op) => ({
      read: op({
        summary: 'Returns the high availability status and current leader.',
        operationId: 'system-read-leader',
        handler: async () => ({
          raw: {
            ha_enabled: false,
            is_self: false,
            active_time: '0001-01-01T00:00:00Z',
            leader_address: '',
            leader_cluster_address: '',
            performance_standby: false,
            performance_standby_last_remote_wal: 0,
          },
        }),
      }),
    }),
  });
