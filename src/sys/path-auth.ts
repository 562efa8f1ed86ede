import { z } from 'zod';
import { definePath, param, type PathSpec } from '../kernel/request.js';
import type { SystemDeps } from './deps.js';
import { sysErrors } from './errors.js';
import { mountConfig, mountTokenType, stringOptions } from './mount-rules.js';
import { MountTable, normaliseMountPath } from './mount-table.js';
import { authMountView } from './mount-view.js';
import { addMount, enableFields, removeMount } from './mount-enable.js';
import { mountObject } from './path-mounts.js';

/** `approle` or `ci/jwt/` → `auth/approle/`, `auth/ci/jwt/`: where an auth method lives in the mount table. */
const authPath = (raw: string) => `auth/${normaliseMountPath(raw)}`;

/** `sys/auth` (an injector path): every enabled auth method, `token/` included, keyed by path relative to `auth/`. */
const authListPath = (deps: Pick<SystemDeps, 'mounts'>) =>
  definePath({
    pattern: 'auth',
    injector: true,
    operations: (op) => ({
      read: op({
        summary: 'Lists the enabled auth methods.',
        operationId: 'auth-list-enabled-methods',
        response: z.record(z.string(), mountObject),
        handler: async () => ({
          data: Object.fromEntries(
            deps.mounts
              .all()
              .filter((m) => m.path.startsWith('auth/'))
              .map((m) => [m.path.slice('auth/'.length), authMountView(m)]),
          ),
        }),
      }),
    }),
  });

/**
 * `sys/auth/:path` (sudo): read, enable and disable one auth method. Disabling revokes every
 * token its logins issued and deletes its roles, users and secret IDs.
 */
const authMethodPath = (deps: Pick<SystemDeps, 'mounts' | 'tokens' | 'authMethodTypes'>) =>
  definePath({
    pattern: 'auth/:path+',
    params: { path: param.rest() },
    injector: true,
    sudo: true,
    operations: (op) => ({
      read: op({
        summary: 'Reads the configuration of an auth method.',
        operationId: 'auth-read-configuration',
        response: mountObject,
        handler: async (req) => {
          const path = authPath(req.params.path);
          const m = deps.mounts.get(path);
          if (!m) throw sysErrors.noAuthEngine(path.slice('auth/'.length));
          return { data: authMountView(m) };
        },
      }),
      write: op({
        summary: 'Enables a new auth method.',
        operationId: 'auth-enable-method',
        fields: enableFields,
        handler: async (req) => {
          const path = authPath(req.params.path);
          const type = req.data.type || req.data.plugin_name;
          if (!type) throw sysErrors.engineTypeRequired();
          if (type === 'token') throw sysErrors.tokenBackendSingleton();
          if (!deps.authMethodTypes.has(type)) throw sysErrors.unknownEngine(type);
          const options = stringOptions(req.data.options);
          if (options?.version) throw sysErrors.authVersionNotAllowed(type);
          const config = req.data.config ?? {};
          const entryConfig = mountConfig(config);
          const tokenType = mountTokenType(config.token_type);
          if (tokenType !== undefined) entryConfig.token_type = tokenType;
          await addMount(deps.mounts, path, type, req.data, { config: entryConfig, options }, (table) =>
            MountTable.checkAuthAvailable(table, path),
          );
        },
      }),
      delete: op({
        summary: 'Disables the auth method at the given path.',
        operationId: 'auth-disable-method',
        handler: async (req) => {
          const path = authPath(req.params.path);
          if (path === 'auth/token/') throw sysErrors.tokenBackendUndeletable();
          // Vault answers success when nothing is mounted, so as not to reveal what is.
          const m = deps.mounts.get(path);
          if (!m) return;
          // The mount goes first so that no login starts after the revocation below; a login
          // already running notices the mount is gone once it has made its token (issueLoginToken).
          await removeMount(deps.mounts, m);
          await deps.tokens.revokeByMount(m.accessor);
        },
      }),
    }),
  });

/** `sys/auth` and `sys/auth/:path`: list, read, enable and disable auth methods. */
export const authPaths = (deps: Pick<SystemDeps, 'mounts' | 'tokens' | 'authMethodTypes'>): PathSpec[] => [
  authListPath(deps),
  authMethodPath(deps),
];
