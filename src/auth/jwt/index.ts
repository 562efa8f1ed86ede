import type { Backend } from '../../kernel/request.js';
import { storageOf } from '../login/deps.js';
import { jwtErrors } from './errors.js';
import type { JwtDeps } from './login.js';
import { configPath } from './path-config.js';
import { loginPath } from './path-login.js';
import { rolePaths } from './path-role.js';
import { readJwtRole } from './roles.js';

export type { JwtDeps } from './login.js';
export { JwtKeyCache } from './keys.js';

/** The JWT auth method (the JWT login flow; the browser OIDC flow is not served): configuration, roles, login. */
export function jwtBackend(deps: JwtDeps): Backend {
  return {
    mountType: 'jwt',
    paths: [configPath(deps), ...rolePaths(deps), loginPath(deps)],
    // As Vault's: the tokens of a deleted role are not renewed.
    renewLogin: async (mount, token) => {
      const name = token.meta?.role ?? '';
      if (!(await readJwtRole(storageOf(deps, mount), name))) throw jwtErrors.roleGoneAtRenewal(name);
    },
  };
}
