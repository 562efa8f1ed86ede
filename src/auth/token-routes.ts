import { z } from 'zod';
import type { Core } from '../core.js';
import { VaultError, permissionDenied } from '../http/errors.js';
import { vString } from '../http/fields.js';
import { defineOperation, type PathSpec } from '../http/route.js';
import type { TokenEntry } from './token-store.js';

/** The `data` of a token lookup, with the types `vault login` type-asserts. */
export const tokenLookupResponse = z.looseObject({
  id: z.string(),
  accessor: z.string(),
  policies: z.array(z.string()),
  meta: z.record(z.string(), z.string()).nullable(),
  ttl: z.number().int(),
  renewable: z.boolean(),
});

/** Renders a token entry as `auth/token/lookup*` reports it. */
export function tokenLookupData(entry: TokenEntry, id: string, nowMs: number): Record<string, unknown> {
  const now = Math.floor(nowMs / 1000);
  return {
    accessor: entry.accessor,
    creation_time: entry.creation_time,
    creation_ttl: entry.creation_ttl,
    display_name: entry.display_name,
    entity_id: '',
    expire_time: entry.expire_at > 0 ? new Date(entry.expire_at * 1000).toISOString() : null,
    explicit_max_ttl: entry.explicit_max_ttl,
    id,
    issue_time: new Date(entry.creation_time * 1000).toISOString(),
    meta: entry.meta,
    num_uses: entry.num_uses,
    orphan: entry.orphan,
    path: entry.path,
    period: entry.period || undefined,
    policies: entry.policies,
    renewable: entry.renewable,
    ttl: entry.expire_at > 0 ? Math.max(0, entry.expire_at - now) : 0,
    type: entry.type,
  };
}

/** `auth/token/lookup-self` and `auth/token/lookup`. */
export function tokenLookupPaths(core: Core): PathSpec[] {
  const lookupSelf = defineOperation({
    summary: 'Looks up the calling token.',
    operationId: 'token-read-self',
    response: tokenLookupResponse,
    handler: async (req) => {
      if (!req.token || !req.clientToken) throw permissionDenied();
      return { data: tokenLookupData(req.token, req.clientToken, core.clock()) };
    },
  });
  return [
    { pattern: 'lookup-self', operations: { read: lookupSelf, write: { ...lookupSelf, operationId: 'token-look-up-self' } } },
    {
      pattern: 'lookup',
      operations: {
        write: defineOperation({
          summary: 'Looks up a token.',
          operationId: 'token-look-up',
          fields: { token: vString() },
          response: tokenLookupResponse,
          handler: async (req) => {
            const id = req.data.token ?? req.clientToken;
            if (!id) throw new VaultError(400, ['missing token to look up']);
            const entry = await core.tokens.lookup(id);
            if (!entry) throw new VaultError(403, ['bad token']);
            return { data: tokenLookupData(entry, id, core.clock()) };
          },
        }),
      },
    },
  ];
}
