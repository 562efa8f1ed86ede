import { z } from 'zod';
import { notFound } from '../kernel/errors.js';
import { vString } from '../kernel/fields.js';
import { definePath, type LogicalRequest, type OperationBuilder, type PathSpec } from '../kernel/request.js';
import { normalisePolicyName } from '../auth/policy-name.js';
import type { SystemDeps } from './deps.js';
import { policyText } from './policy-text.js';

type Policies = SystemDeps['policies'];

/** Whether the named policy exists (create or update, for ACLs); shared with the legacy `sys/policy/:name`. */
export const policyExists = (policies: Policies) => async (req: LogicalRequest<unknown, { name: string }>) =>
  (await policies.get(req.params.name)) !== undefined;

/** The write of one policy; shared with the legacy `sys/policy/:name`. */
export const writePolicy = (op: OperationBuilder<{ name: string }>, policies: Policies, operationId: string) =>
  op({
    summary: 'Creates or replaces an ACL policy (HCL or JSON).',
    operationId,
    fields: { policy: vString(), rules: vString() },
    handler: async (req) => {
      await policies.write(req.params.name, policyText(req.data.policy ?? req.data.rules));
    },
  });

/** The delete of one policy; shared with the legacy `sys/policy/:name`. */
export const deletePolicy = (op: OperationBuilder<{ name: string }>, policies: Policies, operationId: string) =>
  op({
    summary: 'Deletes an ACL policy.',
    operationId,
    handler: async (req) => {
      await policies.delete(req.params.name);
    },
  });

/**
 * ACL policies: `sys/policies/acl[/:name]`. `root` cannot be read, written or deleted;
 * `default` cannot be deleted.
 */
export const policiesPaths = ({ policies }: Pick<SystemDeps, 'policies'>): PathSpec[] => [
  definePath({
    pattern: 'policies/acl',
    operations: (op) => ({
      list: op({
        summary: 'Lists the ACL policies, including root and default.',
        operationId: 'policies-list-acl-policies',
        response: z.object({ keys: z.array(z.string()) }),
        handler: async () => ({ data: { keys: await policies.list() } }),
      }),
    }),
  }),
  definePath({
    pattern: 'policies/acl/:name',
    // Any text: a name that trims to nothing is the handler's 400, not an unknown path.
    params: { name: z.string() },
    normalise: { name: normalisePolicyName },
    exists: policyExists(policies),
    operations: (op) => ({
      read: op({
        summary: 'Reads an ACL policy.',
        operationId: 'policies-read-acl-policy',
        response: z.object({ name: z.string(), policy: z.string() }),
        handler: async (req) => {
          const p = await policies.get(req.params.name);
          if (!p) throw notFound();
          return { data: { name: p.name, policy: p.raw } };
        },
      }),
      write: writePolicy(op, policies, 'policies-write-acl-policy'),
      delete: deletePolicy(op, policies, 'policies-delete-acl-policy'),
    }),
  }),
];
