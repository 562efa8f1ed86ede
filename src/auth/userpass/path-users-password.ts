import { vString } from '../../kernel/fields.js';
import { definePath } from '../../kernel/request.js';
import type { AuthMethodDeps } from '../login/deps.js';
import { userpassErrors } from './errors.js';
import { hashPassword } from './passwords.js';
import { readUser, usernameParam, writeUser } from './users.js';

/** `users/:username/password`: sets a user's password. */
export const usersPasswordPath = (deps: AuthMethodDeps) =>
  definePath({
    pattern: 'users/:username/password',
    params: { username: usernameParam() },
    operations: (op) => ({
      write: op({
        summary: "Resets a user's password.",
        operationId: 'userpass-reset-password',
        fields: { password: vString() },
        handler: async (req) => {
          if (!req.data.password) throw userpassErrors.missingPassword();
          const user = await readUser(deps, req.mount, req.params.username);
          if (!user) throw userpassErrors.unknownUser();
          await writeUser(deps, req.mount, req.params.username, { ...user, password_hash: await hashPassword(req.data.password) });
        },
      }),
    }),
  });
