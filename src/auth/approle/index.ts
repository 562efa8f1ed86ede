import type { Backend } from '../../kernel/request.js';
import { storageOf, type AuthMethodDeps } from '../login/deps.js';
import { approleErrors } from './errors.js';
import { loginPath } from './path-login.js';
import { roleCustomSecretIdPath } from './path-role-custom-secret-id.js';
import { roleRoleIdPath } from './path-role-role-id.js';
import { roleSecretIdAccessorPaths } from './path-role-secret-id-accessor.js';
import { roleSecretIdPaths } from './path-role-secret-id.js';
import { rolePaths } from './path-role.js';
import { readRole } from './roles.js';

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
    // As Vault's: the tokens of a deleted role are not renewed.
    renewLogin: async (mount, token) => {
      const name = token.meta?.role_name ?? '';
      if (!(await readRole(storageOf(deps, mount), name))) throw approleErrors.roleGoneAtRenewal(name);
    },
  };
}
