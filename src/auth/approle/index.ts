import type { Backend } from '../../kernel/request.js';
import type { AuthMethodDeps } from '../login/deps.js';
import { loginPath } from './path-login.js';
import { roleCustomSecretIdPath } from './path-role-custom-secret-id.js';
import { roleRoleIdPath } from './path-role-role-id.js';
import { roleSecretIdAccessorPaths } from './path-role-secret-id-accessor.js';
import { roleSecretIdPaths } from './path-role-secret-id.js';
import { rolePaths } from './path-role.js';

/** The AppRole auth method: roles, their role IDs and secret IDs (stored only as HMACs), and the login. */
export function approleBackend(deps: AuthMethodDeps): Backend {
  return {
    mountType: 'approle',
    paths: [
      loginPath(deps),
      roleRoleIdPath(deps),
      ...roleSecretIdPaths(deps),
      ...roleSecretIdAccessorPaths(deps),
      roleCustomSecretIdPath(deps),
      ...rolePaths(deps),
    ],
  };
}
