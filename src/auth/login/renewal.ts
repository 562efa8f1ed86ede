import type { TokenEntry } from '../../kernel/entries.js';
import { loginErrors } from './errors.js';
import type { TokenSettings } from './token-fields.js';

/**
 * Vault's `policyutil.EquivalentPolicies` for a renewal: the policies a user or role grants now
 * against those its login's token carries, `default` left out on both sides (it is added or not
 * by `token_no_default_policy`, not by the grant).
 */
export function checkSamePolicies(settings: Pick<TokenSettings, 'token_policies'>, token: TokenEntry): void {
  const granted = new Set(settings.token_policies.filter((p) => p !== 'default'));
  const carried = new Set(token.policies.filter((p) => p !== 'default'));
  if (granted.size !== carried.size || [...granted].some((p) => !carried.has(p))) throw loginErrors.policiesChanged();
}
