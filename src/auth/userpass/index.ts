import type { Backend } from '../../kernel/request.js';
import type { AuthMethodDeps } from '../login/deps.js';
import { checkSamePolicies } from '../login/renewal.js';
import { userpassErrors } from './errors.js';
import { loginPath } from './path-login.js';
import { usersPasswordPath } from './path-users-password.js';
import { usersPoliciesPath } from './path-users-policies.js';
import { usersPaths } from './path-users.js';
import { readUser } from './users.js';

/** The userpass auth method: users with scrypt-hashed passwords and the token settings their logins get. */
export function userpassBackend(deps: AuthMethodDeps): Backend {
  return {
    mountType: 'userpass',
    paths: [usersPasswordPath(deps), usersPoliciesPath(deps), ...usersPaths(deps), loginPath(deps)],
    // As Vault's: a deleted user's tokens are not renewed, nor those whose policies the user no longer has.
    renewLogin: async (mount, token) => {
      const user = await readUser(deps, mount, token.meta?.username ?? '');
      if (!user) throw userpassErrors.userGone();
      checkSamePolicies(user.settings, token);
    },
  };
}
