import { z } from 'zod';
import type { TokenEntry } from '../../kernel/entries.js';

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
    ...(entry.bound_cidrs ? { bound_cidrs: entry.bound_cidrs } : {}),
    creation_time: entry.creation_time,
    creation_ttl: entry.creation_ttl,
    display_name: entry.display_name,
    entity_id: '',
    expire_time: entry.expire_at > 0 ? new Date(entry.expire_at * 1000).toISOString() : null,
    explicit_max_ttl: entry.explicit_max_ttl,
    id,
    issue_time: new Date(entry.creation_time * 1000).toISOString(),
    ...(entry.last_renewal_time
      ? { last_renewal: new Date(entry.last_renewal_time * 1000).toISOString(), last_renewal_time: entry.last_renewal_time }
      : {}),
    meta: entry.meta,
    num_uses: entry.num_uses,
    orphan: entry.orphan,
    path: entry.path,
    period: entry.period || undefined,
    policies: entry.policies,
    renewable: entry.renewable && entry.expire_at > 0,
    ttl: entry.expire_at > 0 ? Math.max(0, entry.expire_at - now) : 0,
    type: entry.type,
  };
}

/**
 * The `auth` block of login and token-create responses (conventions §6.1), with the JSON
 * types the Go client decodes into: `policies` an array, `metadata` a string map or null,
 * `lease_duration` an integer. `identity_policies` is omitted, as Vault omits it when empty.
 */
export function authBlock(id: string, entry: TokenEntry, nowMs: number): Record<string, unknown> {
  const now = Math.floor(nowMs / 1000);
  return {
    client_token: id,
    accessor: entry.accessor,
    policies: entry.policies,
    token_policies: entry.policies,
    metadata: entry.meta,
    lease_duration: entry.expire_at > 0 ? Math.max(0, entry.expire_at - now) : 0,
    renewable: entry.renewable && entry.expire_at > 0,
    entity_id: '',
    token_type: entry.type,
    orphan: entry.orphan,
    mfa_requirement: null,
    num_uses: entry.num_uses,
  };
}
