import { z } from 'zod';
import { definePath } from '../kernel/request.js';
import type { SystemDeps } from './deps.js';

/** `sys/version-history`: the versions this server's storage has run, oldest first. */
export const versionHistoryPath = (deps: Pick<SystemDeps, 'versionHistory'>) =>
  definePath({
    pattern: 'version-history',
    operations: (op) => ({
      list: op({
        summary: 'Lists the versions this server has run, with when each was first unsealed.',
        operationId: 'version-history',
        response: z.object({
          keys: z.array(z.string()),
          key_info: z.record(
            z.string(),
            z.object({ build_date: z.string(), previous_version: z.string().nullable(), timestamp_installed: z.string() }),
          ),
        }),
        handler: async () => ({ data: await deps.versionHistory.list() }),
      }),
    }),
  });
