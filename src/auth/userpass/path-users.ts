import { z } from 'zod';
import { notFound } from '../../kernel/errors.js';
import { vDuration, vString, vStrings } from '../../kernel/fields.js';
import { definePath, type PathSpec } from '../../kernel/request.js';
import { keysResponse, listStored, type AuthMethodDeps } from '../login/deps.js';
import {
  DEFAULT_TOKEN_SETTINGS,
  applyTokenFields,
  tokenFieldShape,
  tokenFieldsResponse,
  tokenFieldsView,
  upgradeLegacyFields,
} from '../login/token-fields.js';
import { userpassErrors } from './errors.js';
import { hashPassword } from './passwords.js';
import { USER_LEGACY_FIELDS, deleteUser, readUser, usernameParam, writeUser } from './users.js';

/** `users/`: the names of every user. */
const usersListPath = (deps: AuthMethodDeps) =>
  definePath({
    pattern: 'users',
    operations: (op) => ({
      list: op({
        summary: 'Lists the users.',
        operationId: 'userpass-list-users',
        response: keysResponse,
        handler: async (req) => listStored(deps, req.mount, 'user/'),
      }),
    }),
  });

/** `users/:username`: create, update, read and delete a user; the password is never returned. */
const userPath = (deps: AuthMethodDeps) =>
  definePath({
    pattern: 'users/:username',
    params: { username: usernameParam() },
    exists: async (req) => (await readUser(deps, req.mount, req.params.username)) !== undefined,
    operations: (op) => ({
      read: op({
        summary: 'Reads a user (its token settings; never its password).',
        operationId: 'userpass-read-user',
        response: z.object(tokenFieldsResponse),
        handler: async (req) => {
          const user = await readUser(deps, req.mount, req.params.username);
          if (!user) throw notFound();
          return { data: tokenFieldsView(user.settings) };
        },
      }),
      write: op({
        summary: 'Creates or updates a user.',
        operationId: 'userpass-write-user',
        fields: {
          password: vString(),
          ...tokenFieldShape,
          policies: vStrings(),
          ttl: vDuration({ allowNegative: true }),
          max_ttl: vDuration({ allowNegative: true }),
          bound_cidrs: vStrings(),
        },
        handler: async (req) => {
          const existing = await readUser(deps, req.mount, req.params.username);
          if (!existing && !req.data.password) throw userpassErrors.missingPassword();
          const { settings, warnings } = applyTokenFields(
            existing?.settings ?? DEFAULT_TOKEN_SETTINGS,
            upgradeLegacyFields(req.data, USER_LEGACY_FIELDS),
          );
          const passwordHash = req.data.password ? await hashPassword(req.data.password) : existing!.password_hash;
          await writeUser(deps, req.mount, req.params.username, { password_hash: passwordHash, settings });
          return warnings.length > 0 ? { warnings } : undefined;
        },
      }),
      delete: op({
        summary: 'Deletes a user.',
        operationId: 'userpass-delete-user',
        handler: async (req) => deleteUser(deps, req.mount, req.params.username),
      }),
    }),
  });

export const usersPaths = (deps: AuthMethodDeps): PathSpec[] => [usersListPath(deps), userPath(deps)];
