import { z } from 'zod';
import { auditPath, type AuditBroker } from '../audit/broker.js';
import { badRequest } from '../kernel/errors.js';
import { vBool, vKeyPairs, vString } from '../kernel/fields.js';
import { defineOperation, type PathSpec } from '../kernel/request.js';

const deviceView = z.object({
  type: z.string(),
  description: z.string(),
  options: z.record(z.string(), z.string()),
  local: z.boolean(),
  path: z.string(),
});

/**
 * `sys/audit` (list), `sys/audit/:path` (enable, disable) — both root-protected — and
 * `sys/audit-hash/:path`. All are injector paths.
 */
export function auditPaths(audit: AuditBroker): PathSpec[] {
  return [
    {
      pattern: 'audit',
      sudo: true,
      injector: true,
      operations: {
        read: defineOperation({
          summary: 'Lists the enabled audit devices.',
          operationId: 'auditing-list-enabled-devices',
          response: z.record(z.string(), deviceView),
          handler: async () => ({
            data: Object.fromEntries(audit.list().map((d) => [d.path, { type: d.type, description: d.description, options: d.options, local: d.local, path: d.path }])),
          }),
        }),
      },
    },
    {
      pattern: 'audit/:path+',
      sudo: true,
      injector: true,
      operations: {
        write: defineOperation({
          summary: 'Enables an audit device at a path.',
          operationId: 'auditing-enable-device',
          fields: { type: vString(), description: vString(), options: vKeyPairs(), local: vBool() },
          handler: async (req) => {
            if (!req.data.type) throw badRequest('type is required');
            await audit.enable({
              path: auditPath(req.params.path!),
              type: req.data.type,
              description: req.data.description ?? '',
              options: req.data.options ?? {},
              local: req.data.local ?? false,
            });
          },
        }),
        delete: defineOperation({
          summary: 'Disables the audit device at a path (succeeds if none was enabled there).',
          operationId: 'auditing-disable-device',
          handler: async (req) => {
            await audit.disable(auditPath(req.params.path!));
          },
        }),
      },
    },
    {
      pattern: 'audit-hash/:path+',
      injector: true,
      operations: {
        write: defineOperation({
          summary: 'Returns the digest an audit device writes for a value.',
          operationId: 'auditing-calculate-hash',
          fields: { input: vString() },
          response: z.object({ hash: z.string() }),
          handler: async (req) => ({ data: { hash: await audit.hashFor(auditPath(req.params.path!), req.data.input ?? '') } }),
        }),
      },
    },
  ];
}
