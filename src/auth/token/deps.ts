import type { TokenEntry } from '../../kernel/entries.js';
import type { Authorizer } from '../../kernel/services.js';
import type { LeaseTtls } from '../../kernel/services.js';
import type { TokenStore } from './store.js';

/** What the `auth/token/` endpoints need, wired in the composition root. */
export interface TokenDeps {
  tokens: TokenStore;
  authorizer: Authorizer;
  clock: () => number;
  /** The configuration's `default_lease_ttl` and `max_lease_ttl`. */
  leaseTtls: LeaseTtls;
  /**
   * Asks the auth method that issued a login token whether it may be renewed; throws its
   * refusal. Tokens that no login issued are not asked about.
   */
  loginRenewal?: (token: TokenEntry) => Promise<void>;
}
