import { vStrings } from '../../kernel/fields.js';
import { definePath } from '../../kernel/request.js';
import type { AuthMethodDeps } from '../login/deps.js';
import { applyTokenFields } from '../login/token-fields.js';
import { userpassErrors } from './errors.js';
import { readUser, usernameParam, writeUser } from './users.js';

/** `users/:username/policies`: sets a user's token policies (`policies` is the deprecated spelling). */
export const usersPoliciesPath = (deps: AuthMethodDeps) =>
  definePath({
    pattern: 'users/:username/policies',
    params: { username: usernameParam() },
    operations: (op) => ({
      write: op({
        summary: "Updates a user's token policies.",
        operationId: 'userpass-update-policies',
        fields: { token_policies: vStrings(), policies: vStrings() },
        handler: async (req) => {
          const user = await readUser(deps, req.mount, req.params.username);
          if (!user) throw userpassErrors.unknownUser();
          const { settings } = applyTokenFields(user.settings, { token_policies: req.data.token_policies ?? req.data.policies ?? [] });
          await writeUser(deps, req.mount, req.params.username, { ...user, settings });
        },
      }),
    }),
  });
