import { z } from 'zod';
import { FerryError, badRequest, notFound, permissionDenied } from '../kernel/errors.js';
import { vBool, vDuration, vInt, vKeyPairs, vString, vStrings } from '../kernel/fields.js';
import { defineOperation, type LogicalRequest, type LogicalResponse, type PathSpec } from '../kernel/request.js';
import { planRenewal, planToken } from './token-rules.js';
import type { TokenEntry } from '../kernel/entries.js';
import type { Authorizer } from '../kernel/services.js';
import type { TokenStore } from './token-store.js';

/** What the `auth/token/` endpoints need, wired in the composition root. */
export interface TokenRouteDeps {
  tokens: TokenStore;
  authorizer: Authorizer;
  clock: () => number;
}

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

const createFields = {
  id: vString(),
  policies: vStrings(),
  meta: vKeyPairs(),
  no_parent: vBool(),
  no_default_policy: vBool(),
  ttl: vDuration(),
  explicit_max_ttl: vDuration(),
  period: vDuration(),
  display_name: vString(),
  num_uses: vInt(),
  renewable: vBool(),
  type: vString(),
  entity_alias: vString(),
};

/**
 * `auth/token/*`: create (and create-orphan), lookup, renew and revoke — by token, for the
 * calling token (`-self`) and by accessor — and the accessor list (sudo).
 */
export function tokenPaths(core: TokenRouteDeps): PathSpec[] {
  const now = () => Math.floor(core.clock() / 1000);
  const self = (req: LogicalRequest): { token: TokenEntry; id: string } => {
    if (!req.token || !req.clientToken) throw permissionDenied();
    return { token: req.token, id: req.clientToken };
  };
  /** Root tokens, and tokens with `sudo` on the path they call, may do privileged things. */
  const privileged = async (req: LogicalRequest, token: TokenEntry): Promise<boolean> =>
    token.policies.includes('root') || (await core.authorizer.capabilities(token, req.path)).has('sudo');

  const create = (orphanPath: boolean) =>
    defineOperation({
      summary: orphanPath ? 'Creates an orphan token (no parent).' : 'Creates a token as a child of the calling token.',
      operationId: orphanPath ? 'token-create-orphan' : 'token-create',
      fields: createFields,
      handler: async (req): Promise<LogicalResponse> => {
        const { token: parent } = self(req);
        if (req.data.entity_alias) throw badRequest("'entity_alias' is only allowed in combination with token role");
        const plan = planToken(parent, await privileged(req, parent), req.data, orphanPath, now());
        const created = await core.tokens.create({
          id: plan.id,
          policies: plan.policies,
          parent: plan.orphan ? null : parent,
          ttl: plan.ttl,
          explicit_max_ttl: plan.explicit_max_ttl,
          period: plan.period,
          num_uses: plan.num_uses,
          renewable: plan.renewable,
          display_name: plan.display_name,
          meta: plan.meta,
          path: orphanPath ? 'auth/token/create-orphan' : 'auth/token/create',
        });
        return { data: null, auth: authBlock(created.id, created.entry, core.clock()), warnings: plan.warnings };
      },
    });

  const renew = async (entry: TokenEntry, id: string, increment: number): Promise<LogicalResponse> => {
    const parent = entry.parent ? await core.tokens.lookupByHash(entry.parent) : undefined;
    // A parent that is gone took its subtree with it.
    if (entry.parent && !parent) throw badRequest('invalid token');
    const plan = planRenewal(entry, parent, increment, now());
    const renewed = plan.expireAt === entry.expire_at ? entry : await core.tokens.renew(entry, plan.expireAt);
    return { data: null, auth: authBlock(id, renewed, core.clock()), warnings: plan.warnings };
  };

  const lookupSelf = defineOperation({
    summary: 'Looks up the calling token.',
    operationId: 'token-read-self',
    response: tokenLookupResponse,
    handler: async (req) => {
      const { token, id } = self(req);
      return { data: tokenLookupData(token, id, core.clock()) };
    },
  });

  const accessorField = { accessor: vString() };
  const byAccessor = async (accessor: string | undefined): Promise<TokenEntry> => {
    if (!accessor) throw badRequest('missing accessor');
    const entry = await core.tokens.lookupAccessor(accessor);
    if (!entry) throw badRequest('invalid accessor');
    return entry;
  };

  return [
    { pattern: 'create', operations: { write: create(false) } },
    { pattern: 'create-orphan', operations: { write: create(true) } },
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
            if (!id) throw badRequest('missing token to look up');
            const entry = await core.tokens.lookup(id);
            if (!entry) throw new FerryError('token.bad_token', 'denied', ['bad token']);
            return { data: tokenLookupData(entry, id, core.clock()) };
          },
        }),
      },
    },
    {
      pattern: 'lookup-accessor',
      operations: {
        write: defineOperation({
          summary: 'Looks up a token by its accessor (the token id is not revealed).',
          operationId: 'token-look-up-accessor',
          fields: accessorField,
          response: z.looseObject({ id: z.literal(''), accessor: z.string(), policies: z.array(z.string()) }),
          handler: async (req) => ({ data: tokenLookupData(await byAccessor(req.data.accessor), '', core.clock()) }),
        }),
      },
    },
    {
      pattern: 'renew-self',
      operations: {
        write: defineOperation({
          summary: 'Renews the calling token.',
          operationId: 'token-renew-self',
          fields: { increment: vDuration() },
          handler: async (req) => {
            const { token, id } = self(req);
            return renew(token, id, req.data.increment ?? 0);
          },
        }),
      },
    },
    {
      pattern: 'renew',
      operations: {
        write: defineOperation({
          summary: 'Renews a token.',
          operationId: 'token-renew',
          fields: { token: vString(), increment: vDuration() },
          handler: async (req) => {
            if (!req.data.token) throw badRequest('missing token');
            const entry = await core.tokens.lookup(req.data.token);
            if (!entry) throw badRequest('invalid token');
            return renew(entry, req.data.token, req.data.increment ?? 0);
          },
        }),
      },
    },
    {
      pattern: 'renew-accessor',
      operations: {
        write: defineOperation({
          summary: 'Renews a token by its accessor.',
          operationId: 'token-renew-accessor',
          fields: { ...accessorField, increment: vDuration() },
          handler: async (req) => {
            const res = await renew(await byAccessor(req.data.accessor), '', req.data.increment ?? 0);
            // Renewing by accessor must not reveal the token.
            return { ...res, auth: { ...res.auth, client_token: '' } };
          },
        }),
      },
    },
    {
      pattern: 'revoke-self',
      operations: {
        write: defineOperation({
          summary: 'Revokes the calling token and every token created under it.',
          operationId: 'token-revoke-self',
          handler: async (req) => {
            await core.tokens.revokeTree(self(req).token.hash);
          },
        }),
      },
    },
    {
      pattern: 'revoke',
      operations: {
        write: defineOperation({
          summary: 'Revokes a token and every token created under it.',
          operationId: 'token-revoke',
          fields: { token: vString() },
          handler: async (req) => {
            if (!req.data.token) throw badRequest('missing token');
            // Revoking an unknown token succeeds: the CLI prints "Revoked token (if it existed)".
            const entry = await core.tokens.lookup(req.data.token);
            if (entry) await core.tokens.revokeTree(entry.hash);
          },
        }),
      },
    },
    {
      pattern: 'revoke-accessor',
      operations: {
        write: defineOperation({
          summary: 'Revokes a token by its accessor, with every token created under it.',
          operationId: 'token-revoke-accessor',
          fields: accessorField,
          handler: async (req) => {
            if (!req.data.accessor) throw badRequest('missing accessor');
            const entry = await core.tokens.lookupAccessor(req.data.accessor);
            if (entry) await core.tokens.revokeTree(entry.hash);
          },
        }),
      },
    },
    {
      pattern: 'accessors',
      sudo: true,
      operations: {
        list: defineOperation({
          summary: 'Lists the accessors of every live token.',
          operationId: 'token-list-accessors',
          response: z.object({ keys: z.array(z.string()) }),
          handler: async () => {
            const keys = await core.tokens.listAccessors();
            if (keys.length === 0) throw notFound();
            return { data: { keys } };
          },
        }),
      },
    },
  ];
}
