import { z } from 'zod';
import { auditPath } from '../audit/broker.js';
import { vBool, vKeyPairs, vString } from '../kernel/fields.js';
import { definePath, param, type PathSpec } from '../kernel/request.js';
import type { SystemDeps } from './deps.js';
import { sysErrors } from './errors.js';

const deviceView = z.object({
  type: z.string(),
  description: z.string(),
  options: z.record(z.string(), z.string()),
  local: z.boolean(),
  path: z.string(),
});

/** `sys/audit` (list) and `sys/audit/:path` (enable, disable): root-protected injector paths. */
export const auditPaths = ({ audit }: Pick<SystemDeps, 'audit'>): PathSpec[] => [
  definePath({
    pattern: 'audit',
    sudo: true,
    injector: true,
    operations: (op) => ({
      read: op({
        summary: 'Lists the enabled audit devices.',
        operationId: 'auditing-list-enabled-devices',
        response: z.record(z.string(), deviceView),
        handler: async () => ({
          data: Object.fromEntries(audit.list().map((d) => [d.path, { type: d.type, description: d.description, options: d.options, local: d.local, path: d.path }])),
        }),
      }),
    }),
  }),
  definePath({
    pattern: 'audit/:path+',
    params: { path: param.rest() },
    sudo: true,
    injector: true,
    operations: (op) => ({
      write: op({
        summary: 'Enables an audit device at a path.',
        operationId: 'auditing-enable-device',
        fields: { type: vString(), description: vString(), options: vKeyPairs(), local: vBool() },
        handler: async (req) => {
          if (!req.data.type) throw sysErrors.auditTypeRequired();
          await audit.enable({
            path: auditPath(req.params.path),
            type: req.data.type,
            description: req.data.description ?? '',
            options: req.data.options ?? {},
            local: req.data.local ?? false,
          });
        },
      }),
      delete: op({
        summary: 'Disables the audit device at a path (succeeds if none was enabled there).',
        operationId: 'auditing-disable-device',
        handler: async (req) => {
          await audit.disable(auditPath(req.params.path));
        },
      }),
    }),
  }),
];
