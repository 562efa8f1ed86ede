import { z } from 'zod';
import { notFound } from '../kernel/errors.js';
import { definePath, type PathSpec } from '../kernel/request.js';
import { normalisePolicyName } from '../auth/policy-name.js';
import type { SystemDeps } from './deps.js';
import { deletePolicy, policyExists, writePolicy } from './path-policies.js';

const names = z.object({ keys: z.array(z.string()), policies: z.array(z.string()) });

/**
 * The legacy `sys/policy[/:name]` (an injector path): as `sys/policies/acl`, but a read
 * answers `rules` rather than `policy`, and the list answers `policies` beside `keys`.
 */
export const policyPaths = ({ policies }: Pick<SystemDeps, 'policies'>): PathSpec[] => {
  const list = async () => {
    const all = await policies.list();
    return { data: { keys: all, policies: all } };
  };
  return [
    definePath({
      pattern: 'policy',
      injector: true,
      operations: (op) => ({
        read: op({
          summary: 'Lists the ACL policies (legacy endpoint).',
          operationId: 'policy-list',
          response: names,
          handler: list,
        }),
        list: op({
          summary: 'Lists the ACL policies (legacy endpoint).',
          operationId: 'policy-list-keys',
          response: names,
          handler: list,
        }),
      }),
    }),
    definePath({
      pattern: 'policy/:name',
      // Any text: a name that trims to nothing is the handler's 400, not an unknown path.
      params: { name: z.string() },
      normalise: { name: normalisePolicyName },
      injector: true,
      exists: policyExists(policies),
      operations: (op) => ({
        read: op({
          summary: 'Reads an ACL policy (legacy endpoint).',
          operationId: 'policy-read',
          response: z.object({ name: z.string(), rules: z.string() }),
          handler: async (req) => {
            const p = await policies.get(req.params.name);
            if (!p) throw notFound();
            return { data: { name: p.name, rules: p.raw } };
          },
        }),
        write: writePolicy(op, policies, 'policy-write'),
        delete: deletePolicy(op, policies, 'policy-delete'),
      }),
    }),
  ];
};
