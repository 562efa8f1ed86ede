import { z } from 'zod';
import type { SystemDeps } from './deps.js';
import type { TokenEntry } from '../kernel/entries.js';
import { badRequest, permissionDenied } from '../kernel/errors.js';
import { vString, vStrings } from '../kernel/fields.js';
import { defineOperation, type LogicalRequest, type PathSpec } from '../kernel/request.js';

/** Vault's rendering: `["root"]` for root tokens, `["deny"]` when nothing is granted, else sorted. */
async function capabilityList(core: SystemDeps, token: TokenEntry, path: string): Promise<string[]> {
  if (token.policies.includes('root')) return ['root'];
  const caps = await core.authorizer.capabilities(token, path.replace(/^\/+/, ''));
  if (caps.size === 0 || caps.has('deny')) return ['deny'];
  return [...caps].sort();
}

const pathFields = { paths: vStrings(), path: vStrings() };
const response = z.record(z.string(), z.array(z.string()));

/**
 * `sys/capabilities-self`, `sys/capabilities` and `sys/capabilities-accessor` (injector
 * paths): the capabilities a token holds on each path. With one path the list is also
 * under `capabilities`, for older clients.
 */
export function capabilityPaths(core: SystemDeps): PathSpec[] {
  const answer = async (token: TokenEntry, req: LogicalRequest<{ paths?: string[]; path?: string[] }>) => {
    const paths = [...(req.data.paths ?? []), ...(req.data.path ?? [])];
    if (paths.length === 0) throw badRequest("'paths' must be specified");
    const data: Record<string, string[]> = {};
    for (const p of paths) data[p] = await capabilityList(core, token, p);
    if (paths.length === 1) data.capabilities = data[paths[0]!]!;
    return { data };
  };
  return [
    {
      pattern: 'capabilities-self',
      injector: true,
      operations: {
        write: defineOperation({
          summary: "Returns the calling token's capabilities on the given paths.",
          operationId: 'query-token-self-capabilities',
          fields: pathFields,
          response,
          handler: async (req) => {
            if (!req.token) throw permissionDenied();
            return answer(req.token, req);
          },
        }),
      },
    },
    {
      pattern: 'capabilities',
      injector: true,
      operations: {
        write: defineOperation({
          summary: "Returns a token's capabilities on the given paths.",
          operationId: 'query-token-capabilities',
          fields: { ...pathFields, token: vString() },
          response,
          handler: async (req) => {
            if (!req.data.token) throw badRequest("'token' must be specified");
            const token = await core.tokens.lookup(req.data.token);
            if (!token) throw badRequest('invalid token');
            return answer(token, req);
          },
        }),
      },
    },
    {
      pattern: 'capabilities-accessor',
      injector: true,
      operations: {
        write: defineOperation({
          summary: "Returns the capabilities, on the given paths, of the token with this accessor.",
          operationId: 'query-token-accessor-capabilities',
          fields: { ...pathFields, accessor: vString() },
          response,
          handler: async (req) => {
            if (!req.data.accessor) throw badRequest("'accessor' must be specified");
            const token = await core.tokens.lookupAccessor(req.data.accessor);
            if (!token) throw badRequest('invalid accessor');
            return answer(token, req);
          },
        }),
      },
    },
  ];
}
