import { z } from 'zod';
import { definePath, param, type PathSpec } from '../kernel/request.js';
import type { SystemDeps } from './deps.js';
import { sysErrors } from './errors.js';
import { mountConfig, resolveEngineType, stringOptions } from './mount-rules.js';
import { normaliseMountPath } from './mount-table.js';
import { addMount, enableFields, removeMount } from './mount-enable.js';
import { authMountView, mountView } from './mount-view.js';

/** A mount object as the Go client decodes it (`api.MountOutput`): the lease TTLs must be integers. */
export const mountObject = z.looseObject({
  accessor: z.string(),
  type: z.string(),
  description: z.string(),
  config: z.looseObject({ default_lease_ttl: z.number().int(), max_lease_ttl: z.number().int(), force_no_cache: z.boolean() }),
  options: z.record(z.string(), z.string()).nullable(),
  local: z.boolean(),
  seal_wrap: z.boolean(),
  external_entropy_access: z.boolean(),
  uuid: z.string(),
});

/** `sys/mounts` (an injector path): every mounted secrets engine. */
const mountsListPath = (deps: Pick<SystemDeps, 'mounts'>) =>
  definePath({
    pattern: 'mounts',
    injector: true,
    operations: (op) => ({
      read: op({
        summary: 'Lists all the mounted secrets engines.',
        operationId: 'mounts-list-secrets-engines',
        response: z.record(z.string(), mountObject),
        handler: async () => ({
          data: Object.fromEntries(
            deps.mounts
              .all()
              .filter((m) => !m.path.startsWith('auth/'))
              .map((m) => [m.path, mountView(m)]),
          ),
        }),
      }),
    }),
  });

/** `sys/mounts/:path` (an injector path): read, enable and disable one secrets engine. */
const mountPath = (deps: Pick<SystemDeps, 'mounts' | 'unmountGuards'>) =>
  definePath({
    pattern: 'mounts/:path+',
    params: { path: param.rest() },
    injector: true,
    operations: (op) => ({
      read: op({
        summary: 'Reads the configuration of a secrets engine.',
        operationId: 'mounts-read-configuration',
        response: mountObject,
        handler: async (req) => {
          // Vault matches by longest prefix (`secret/sub/path` reads the `secret/` mount) and
          // answers a path no engine serves with a 400 that clients match on (the terraform
          // provider's "mount not found" test looks for this text). The Go client's GetAuth
          // reads auth methods here too, as `sys/mounts/auth/<path>`.
          const path = normaliseMountPath(req.params.path);
          const m = deps.mounts.resolve(path);
          if (!m || m.path.startsWith('auth/') !== path.startsWith('auth/')) throw sysErrors.noSecretEngineMount(path);
          return { data: m.path.startsWith('auth/') ? authMountView(m) : mountView(m) };
        },
      }),
      write: op({
        summary: 'Enables a new secrets engine at the given path.',
        operationId: 'mounts-enable-secrets-engine',
        fields: enableFields,
        handler: async (req) => {
          const path = normaliseMountPath(req.params.path);
          const requested = req.data.type || req.data.plugin_name;
          if (!requested) throw sysErrors.engineTypeRequired();
          const { type, options } = resolveEngineType(requested, stringOptions(req.data.options));
          const entryConfig = mountConfig(req.data.config ?? {});
          await addMount(deps.mounts, path, type, req.data, { config: entryConfig, options }, () => deps.mounts.checkAvailable(path));
        },
      }),
      delete: op({
        summary: 'Disables the secrets engine at the given path.',
        operationId: 'mounts-disable-secrets-engine',
        handler: async (req) => {
          const path = normaliseMountPath(req.params.path);
          if (deps.mounts.isProtected(path)) throw sysErrors.builtinMount(path);
          const m = deps.mounts.get(path);
          if (!m) return;
          for (const guard of deps.unmountGuards) await guard(m);
          await removeMount(deps.mounts, m);
        },
      }),
    }),
  });

/** `sys/mounts` and `sys/mounts/:path`: list, read, enable and disable secrets engines. */
export const mountsPaths = (deps: Pick<SystemDeps, 'mounts' | 'unmountGuards'>): PathSpec[] => [mountsListPath(deps), mountPath(deps)];
