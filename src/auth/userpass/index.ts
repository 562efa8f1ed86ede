import type { Backend } from '../../kernel/request.js';
import type { AuthMethodDeps } from '../login/deps.js';
import { loginPath } from './path-login.js';
import { usersPasswordPath } from './path-users-password.js';
import { usersPoliciesPath } from './path-users-policies.js';
import { usersPaths } from './path-users.js';

/** The userpass auth method: users with scrypt-hashed passwords and the token settings their logins get. */
export function userpassBackend(deps: AuthMethodDeps): Backend {
  return {
    mountType: 'userpass',
    paths: [usersPasswordPath(deps), usersPoliciesPath(deps), ...usersPaths(deps), loginPath(deps)],
  };
}
