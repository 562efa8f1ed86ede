import { z } from 'zod';
import { addressAllowed } from '../../kernel/cidr.js';
import { permissionDenied } from '../../kernel/errors.js';
import { vString } from '../../kernel/fields.js';
import { definePath } from '../../kernel/request.js';
import type { AuthMethodDeps } from '../login/deps.js';
import { issueLoginToken } from '../login/issue.js';
import { userpassErrors } from './errors.js';
import { verifyAgainstDummy, verifyPassword } from './passwords.js';
import { readUser, usernameParam } from './users.js';

/**
 * `login/:username` (unauthenticated): a password login. An unknown user and a wrong password
 * get the same answer after the same work (the password is checked against a dummy hash), so
 * the answer and its timing do not tell which names exist.
 */
export const loginPath = (deps: AuthMethodDeps) =>
  definePath({
    pattern: 'login/:username',
    params: { username: usernameParam() },
    unauthenticated: true,
    operations: (op) => ({
      write: op({
        summary: 'Logs in with a username and password.',
        operationId: 'userpass-login',
        fields: { password: vString() },
        response: z.null(),
        handler: async (req) => {
          const password = req.data.password;
          if (!password) throw userpassErrors.missingPassword();
          const name = req.params.username;
          const user = await readUser(deps, req.mount, name);
          const valid = user ? await verifyPassword(password, user.password_hash) : await verifyAgainstDummy(password);
          if (!user || !valid) throw userpassErrors.invalidCredentials();
          if (!addressAllowed(user.settings.token_bound_cidrs, req.remoteAddress)) throw permissionDenied();
          return issueLoginToken(deps, req, { settings: user.settings, metadata: { username: name }, displayName: name });
        },
      }),
    }),
  });
