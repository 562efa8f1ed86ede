import type { TokenEntry } from '../../kernel/entries.js';
import type { LogicalResponse } from '../../kernel/request.js';
import type { TokenDeps } from './deps.js';
import { tokenErrors } from './errors.js';
import { planRenewal } from './rules.js';
import { authBlock } from './views.js';

/** Renews a token by Vault's rules and answers with its auth block (`id` is '' when renewed by accessor). */
export async function renewToken(
  deps: Pick<TokenDeps, 'tokens' | 'clock' | 'leaseTtls' | 'loginRenewal'>,
  entry: TokenEntry,
  id: string,
  increment: number,
): Promise<LogicalResponse> {
  if (entry.type === 'batch') throw tokenErrors.batchNotRenewable();
  // As in Vault, a login's token is renewed only while its user or role still grants it.
  if (entry.mount_accessor && deps.loginRenewal) await deps.loginRenewal(entry);
  const parent = entry.parent ? await deps.tokens.lookupByHash(entry.parent) : undefined;
  // A parent that is gone took its subtree with it.
  if (entry.parent && !parent) throw tokenErrors.invalidToken();
  const plan = planRenewal(entry, parent, increment, Math.floor(deps.clock() / 1000), deps.leaseTtls);
  const renewed = plan.expireAt === entry.expire_at ? entry : await deps.tokens.renew(entry, plan.expireAt);
  return { data: null, auth: authBlock(id, renewed, deps.clock()), warnings: plan.warnings };
}
