import { hostname } from 'node:os';
import { z } from 'zod';
import { definePath } from '../kernel/request.js';
import type { SystemDeps } from './deps.js';

const haNode = z.object({
  hostname: z.string(),
  api_address: z.string(),
  cluster_address: z.string(),
  active_node: z.boolean(),
  /** RFC3339 time of the node's last heartbeat; null for the active node, as in Vault. */
  last_echo: z.string().nullable(),
  version: z.string(),
});

/**
 * `sys/ha-status` (an injector path): the nodes of the cluster. With HA, every node heard from in
 * the last 30 s (each refreshes its row of the node table every second), the active one marked;
 * a standby forwards the request, so the active node answers. Without HA, the one node itself.
 */
export const haStatusPath = (deps: Pick<SystemDeps, 'ha' | 'info'>) =>
  definePath({
    pattern: 'ha-status',
    injector: true,
    operations: (op) => ({
      read: op({
        summary: 'Returns the nodes of the HA cluster and which one is active.',
        operationId: 'ha-status',
        response: z.object({ nodes: z.array(haNode) }),
        handler: async () => {
          if (!deps.ha.enabled) {
            return {
              data: {
                nodes: [{ hostname: hostname(), api_address: deps.info.apiAddr, cluster_address: '', active_node: true, last_echo: null, version: deps.info.version }],
              },
            };
          }
          const nodes = await deps.ha.nodes();
          return {
            data: {
              nodes: nodes.map((n) => ({
                hostname: n.hostname,
                api_address: n.apiAddr,
                cluster_address: n.clusterAddr,
                active_node: n.active,
                last_echo: n.active ? null : new Date(n.lastEcho).toISOString(),
                version: n.version,
              })),
            },
          };
        },
      }),
    }),
  });
