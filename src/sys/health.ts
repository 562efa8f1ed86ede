import { z } from 'zod';
import type { SystemDeps } from './deps.js';
import { badRequest } from '../kernel/errors.js';
import { vBool } from '../kernel/fields.js';
import { defineOperation, type PathSpec } from '../kernel/request.js';

const codeField = () =>
  z.union([z.number(), z.string()]).transform((v, ctx) => {
    const n = Number(v);
    if (!Number.isInteger(n)) {
      ctx.addIssue({ code: 'custom', message: 'not an integer status code' });
      return z.NEVER;
    }
    return n;
  });

/** The raw `sys/seal-status` body; `sys/unseal` answers with it too. */
export function sealStatusBody(core: SystemDeps): Record<string, unknown> {
  const s = core.seal.status();
  return {
    type: 'shamir',
    initialized: s.initialized,
    sealed: s.sealed,
    t: s.t,
    n: s.n,
    progress: s.progress,
    nonce: s.nonce,
    version: core.info.version,
    build_date: core.info.buildDate,
    migration: false,
    ...(s.sealed ? {} : { cluster_name: core.info.clusterName, cluster_id: core.info.clusterId }),
    recovery_seal: false,
    storage_type: core.info.storageType,
  };
}

/** `sys/health`, `sys/seal-status` and `sys/leader`: raw, unauthenticated, answered while sealed. */
export function healthPaths(core: SystemDeps): PathSpec[] {
  return [
    {
      pattern: 'health',
      unauthenticated: true,
      whileSealed: true,
      raw: true,
      description: 'Health of the server, with status codes load balancers can read.',
      operations: {
        read: defineOperation({
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
          },
          handler: async (req) => {
            const s = core.seal.status();
            const { activecode = 200, sealedcode = 503, uninitcode = 501 } = req.data;
            for (const code of [activecode, sealedcode, uninitcode]) {
              if (code < 100 || code > 599) throw badRequest(`invalid status code ${code}`);
            }
            const status = !s.initialized ? uninitcode : s.sealed ? sealedcode : activecode;
            return {
              status,
              raw: {
                initialized: s.initialized,
                sealed: s.sealed,
                standby: false,
                performance_standby: false,
                replication_performance_mode: 'disabled',
                replication_dr_mode: 'disabled',
                server_time_utc: Math.floor(core.clock() / 1000),
                version: core.info.version,
                enterprise: false,
                ...(s.initialized ? { cluster_name: core.info.clusterName, cluster_id: core.info.clusterId } : {}),
                echo_duration_ms: 0,
                clock_skew_ms: 0,
              },
            };
          },
        }),
      },
    },
    {
      pattern: 'seal-status',
      unauthenticated: true,
      whileSealed: true,
      raw: true,
      operations: {
        read: defineOperation({
          summary: 'Returns the seal status of the server.',
          operationId: 'system-read-seal-status',
          handler: async () => ({ raw: sealStatusBody(core) }),
        }),
      },
    },
    {
      pattern: 'leader',
      unauthenticated: true,
      whileSealed: true,
      raw: true,
      operations: {
        read: defineOperation({
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
      },
    },
  ];
}

