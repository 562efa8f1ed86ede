import type { TokenEntry } from '../../kernel/entries.js';
import { permissionDenied } from '../../kernel/errors.js';
import type { LogicalRequest } from '../../kernel/request.js';
import type { TokenDeps } from './deps.js';
import { tokenErrors } from './errors.js';

/** The calling token and its id, for the `-self` endpoints. */
export function caller(req: LogicalRequest<unknown, unknown>): { token: TokenEntry; id: string } {
  if (!req.token || !req.clientToken) throw permissionDenied();
  return { token: req.token, id: req.clientToken };
}

/** Root tokens, and tokens with `sudo` on the path they call, may do privileged things. */
export async function isPrivileged(deps: Pick<TokenDeps, 'authorizer'>, req: LogicalRequest<unknown, unknown>, token: TokenEntry): Promise<boolean> {
  return token.policies.includes('root') || (await deps.authorizer.capabilities(token, req.path)).has('sudo');
}

/** The live token with an accessor, for the `-accessor` endpoints. */
export async function tokenByAccessor(deps: Pick<TokenDeps, 'tokens'>, accessor: string | undefined): Promise<TokenEntry> {
  if (!accessor) throw tokenErrors.missingAccessor();
  const entry = await deps.tokens.lookupAccessor(accessor);
  if (!entry) throw tokenErrors.invalidAccessor();
  return entry;
}
