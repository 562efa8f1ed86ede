import { z } from 'zod';
import type { PolicyStore } from '../auth/policy-store.js';
import { badRequest, notFound } from '../kernel/errors.js';
import { vString } from '../kernel/fields.js';
import { defineOperation, type LogicalRequest, type PathSpec } from '../kernel/request.js';

/** Vault accepts a policy body sent base64-encoded; HCL and JSON text is never valid base64. */
function policyText(raw: string | undefined): string {
  const text = raw ?? '';
  if (text.trim() === '') throw badRequest("'policy' parameter not supplied or empty");
  if (text.length % 4 === 0 && /^[A-Za-z0-9+/]+={0,2}$/.test(text)) {
    const decoded = Buffer.from(text, 'base64').toString('utf8');
    if (decoded.trim() !== '') return decoded;
  }
  return text;
}

/**
 * ACL policies: `sys/policies/acl[/:name]` and the legacy `sys/policy[/:name]` (an
 * injector path, whose read answers `rules` rather than `policy`). `root` cannot be read,
 * written or deleted; `default` cannot be deleted.
 */
export function policyPaths(policies: PolicyStore): PathSpec[] {
  const exists = async (req: LogicalRequest) => (await policies.get(req.params.name!)) !== undefined;
  const keys = z.object({ keys: z.array(z.string()) });

  const write = (operationId: string) =>
    defineOperation({
      summary: 'Creates or replaces an ACL policy (HCL or JSON).',
      operationId,
      fields: { policy: vString(), rules: vString() },
      handler: async (req) => {
        await policies.write(req.params.name!, policyText(req.data.policy ?? req.data.rules));
      },
    });
  const remove = (operationId: string) =>
    defineOperation({
      summary: 'Deletes an ACL policy.',
      operationId,
      handler: async (req) => {
        await policies.delete(req.params.name!);
      },
    });

  return [
    {
      pattern: 'policies/acl',
      operations: {
        list: defineOperation({
          summary: 'Lists the ACL policies, including root and default.',
          operationId: 'policies-list-acl-policies',
          response: keys,
          handler: async () => ({ data: { keys: await policies.list() } }),
        }),
      },
    },
    {
      pattern: 'policies/acl/:name',
      exists,
      operations: {
        read: defineOperation({
          summary: 'Reads an ACL policy.',
          operationId: 'policies-read-acl-policy',
          response: z.object({ name: z.string(), policy: z.string() }),
          handler: async (req) => {
            const p = await policies.get(req.params.name!);
            if (!p) throw notFound();
            return { data: { name: p.name, policy: p.raw } };
          },
        }),
        write: write('policies-write-acl-policy'),
        delete: remove('policies-delete-acl-policy'),
      },
    },
    {
      pattern: 'policy',
      injector: true,
      operations: {
        read: defineOperation({
          summary: 'Lists the ACL policies (legacy endpoint).',
          operationId: 'policy-list',
          response: z.object({ keys: z.array(z.string()), policies: z.array(z.string()) }),
          handler: async () => {
            const names = await policies.list();
            return { data: { keys: names, policies: names } };
          },
        }),
        list: defineOperation({
          summary: 'Lists the ACL policies (legacy endpoint).',
          operationId: 'policy-list-keys',
          response: z.object({ keys: z.array(z.string()), policies: z.array(z.string()) }),
          handler: async () => {
            const names = await policies.list();
            return { data: { keys: names, policies: names } };
          },
        }),
      },
    },
    {
      pattern: 'policy/:name',
      injector: true,
      exists,
      operations: {
        read: defineOperation({
          summary: 'Reads an ACL policy (legacy endpoint).',
          operationId: 'policy-read',
          response: z.object({ name: z.string(), rules: z.string() }),
          handler: async (req) => {
            const p = await policies.get(req.params.name!);
            if (!p) throw notFound();
            return { data: { name: p.name, rules: p.raw } };
          },
        }),
        write: write('policy-write'),
        delete: remove('policy-delete'),
      },
    },
  ];
}
