import { sealed } from '../kernel/errors.js';
import { definePath } from '../kernel/request.js';
import type { SystemDeps } from './deps.js';

/** Go's zero time, which `vault status` reads as "never". */
const ZERO_TIME = '0001-01-01T00:00:00Z';

/**
 * `sys/leader`: raw, unauthenticated, answered by every node itself (never forwarded). With HA
 * (PostgreSQL storage, `ha_enabled`) it names the active node as the leader record in storage
 * does: its `api_addr` and `cluster_addr`; `active_time` is the active node's own. While sealed
 * it answers as Vault on integrated storage does, 503 "Vault is sealed" (`vault status`
 * tolerates exactly that error).
 */
export const leaderPath = (deps: Pick<SystemDeps, 'seal' | 'ha'>) =>
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
          const { ha } = deps;
          const isSelf = ha.enabled && ha.isActive();
          const leader = ha.enabled ? ha.leader() : undefined;
          const since = ha.activeSince();
          return {
            raw: {
              ha_enabled: ha.enabled,
              is_self: isSelf,
              active_time: isSelf && since !== undefined ? new Date(since).toISOString() : ZERO_TIME,
              leader_address: leader?.apiAddr ?? '',
              leader_cluster_address: leader?.clusterAddr ?? '',
              performance_standby: false,
              performance_standby_last_remote_wal: 0,
            },
          };
        },
      }),
    }),
  });
