import { z } from 'zod';
import { auditPath } from '../audit/broker.js';
import { vString } from '../kernel/fields.js';
import { definePath, param } from '../kernel/request.js';
import type { SystemDeps } from './deps.js';

/** `sys/audit-hash/:path` (an injector path): the digest an audit device writes for a value. */
export const auditHashPath = ({ audit }: Pick<SystemDeps, 'audit'>) =>
  definePath({
    pattern: 'audit-hash/:path+',
    params: { path: param.rest() },
    injector: true,
    operations: (op) => ({
      write: op({
        summary: 'Returns the digest an audit device writes for a value.',
        operationId: 'auditing-calculate-hash',
        fields: { input: vString() },
        response: z.object({ hash: z.string() }),
        handler: async (req) => ({ data: { hash: await audit.hashFor(auditPath(req.params.path), req.data.input ?? '') } }),
      }),
    }),
  });
