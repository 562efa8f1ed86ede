import { z } from 'zod';
import { vBool } from '../kernel/fields.js';
import { definePath } from '../kernel/request.js';
import type { SystemDeps } from './deps.js';
import { sysErrors } from './errors.js';

const codeField = () =>
  z.union([z.number(), z.string()]).transform((v, ctx) => {
    const n = Number(v);
    if (!Number.isInteger(n)) {
      ctx.addIssue({ code: 'custom', message: 'not an integer status code' });
      return z.NEVER;
    }
    return n;
  });

/** `sys/health`: raw, unauthenticated, answered while sealed, with status codes load balancers can read. */
export const healthPath = (deps: Pick<SystemDeps, 'seal' | 'info' | 'clock' | 'ha'>) =>
  definePath({
    pattern: 'health',
    unauthenticated: true,
    whileSealed: true,
    raw: true,
    description: 'Health of the server, with status codes load balancers can read.',
    operations: (op) => ({
      read: op({
        summary: 'Returns the health status of the server.',
        operationId: 'system-read-health',
        fields: {
          standbyok: vBool(),
          perfstandbyok: vBool(),
          activecode: codeField(),
          standbycode: codeField(),
          drsecondarycode: codeField(),
          performancestandbycode: codeField(),
          sealedcode: codeField(),
          uninitcode: codeField(),
          haunhealthycode: codeField(),
        },
        handler: async (req) => {
          const s = deps.seal.status();
          const { activecode = 200, standbycode = 429, sealedcode = 503, uninitcode = 501, haunhealthycode = 474 } = req.data;
          for (const code of [activecode, standbycode, sealedcode, uninitcode, haunhealthycode]) {
            if (code < 100 || code > 599) throw sysErrors.invalidStatusCode(code);
          }
          const unsealed = s.initialized && !s.sealed;
          // A sealed node is no standby: it takes no part in the election until unsealed.
          const standby = unsealed && !deps.ha.isActive();
          const link = standby ? deps.ha.standbyLink() : undefined;
          // A standby that cannot reach the active node cannot forward: unhealthy whatever standbyok says.
          const standbyStatus = link && !link.healthy ? haunhealthycode : req.data.standbyok === true ? activecode : standbycode;
          const status = !s.initialized ? uninitcode : s.sealed ? sealedcode : standby ? standbyStatus : activecode;
          return {
            status,
            raw: {
              initialized: s.initialized,
              sealed: s.sealed,
              standby,
              performance_standby: false,
              replication_performance_mode: 'disabled',
              replication_dr_mode: 'disabled',
              server_time_utc: Math.floor(deps.clock() / 1000),
              version: deps.info.version,
              ferry_version: deps.info.ferryVersion,
              enterprise: false,
              // As Vault: the cluster's name and id are stored behind the barrier, so only an unsealed server reports them.
              ...(s.initialized && !s.sealed ? { cluster_name: deps.info.clusterName, cluster_id: deps.info.clusterId } : {}),
              echo_duration_ms: link?.echoDurationMs ?? 0,
              clock_skew_ms: link?.clockSkewMs ?? 0,
              // Vault's standbys say whether their link to the active node is up, and when it last answered.
              ...(link
                ? {
                    ha_connection_healthy: link.healthy,
                    last_request_forwarding_heartbeat_ms: link.lastEcho > 0 ? Math.max(0, deps.clock() - link.lastEcho) : 0,
                  }
                : {}),
            },
          };
        },
      }),
    }),
  });
