import { z } from 'zod';
import type { MountEntry } from '../kernel/entries.js';
import { vBool, vMap, vString } from '../kernel/fields.js';
import { definePath, param, type PathSpec } from '../kernel/request.js';
import type { SystemDeps } from './deps.js';
import { sysErrors } from './errors.js';
import { configTtl, resolveEngineType, stringOptions } from './mount-rules.js';
import { MountTable, normaliseMountPath } from './mount-table.js';
import { mountView } from './mount-view.js';

const mountObject = z.looseObject({
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
          // provider's "mount not found" test looks for this text).
          const path = normaliseMountPath(req.params.path);
          const m = deps.mounts.resolve(path);
          if (!m || m.path.startsWith('auth/')) throw sysErrors.noSecretEngineMount(path);
          return { data: mountView(m) };
        },
      }),
      write: op({
        summary: 'Enables a new secrets engine at the given path.',
        operationId: 'mounts-enable-secrets-engine',
        fields: {
          type: vString(),
          description: vString(),
          config: vMap(),
          options: vMap(),
          local: vBool(),
          seal_wrap: vBool(),
          external_entropy_access: vBool(),
          plugin_name: vString(),
          plugin_version: vString(),
        },
        handler: async (req) => {
          const path = normaliseMountPath(req.params.path);
          const requested = req.data.type || req.data.plugin_name;
          if (!requested) throw sysErrors.engineTypeRequired();
          const { type, options } = resolveEngineType(requested, stringOptions(req.data.options));
          const config = req.data.config ?? {};
          const entryConfig: MountEntry['config'] = {
            default_lease_ttl: configTtl(config.default_lease_ttl, 'default_lease_ttl'),
            max_lease_ttl: configTtl(config.max_lease_ttl, 'max_lease_ttl'),
            force_no_cache: config.force_no_cache === true || config.force_no_cache === 'true',
          };
          if (typeof config.listing_visibility === 'string' && config.listing_visibility !== '') {
            if (!['unauth', 'hidden'].includes(config.listing_visibility)) throw sysErrors.invalidListingVisibility(config.listing_visibility);
            entryConfig.listing_visibility = config.listing_visibility;
          }
          await deps.mounts.update((mounts) => {
            deps.mounts.checkAvailable(path);
            mounts.push(
              deps.mounts.build(path, type, {
                description: req.data.description ?? '',
                config: entryConfig,
                options,
                local: req.data.local ?? false,
                seal_wrap: req.data.seal_wrap ?? false,
                external_entropy_access: req.data.external_entropy_access ?? false,
                plugin_version: req.data.plugin_version ?? '',
              }),
            );
          });
        },
      }),
      delete: op({
        summary: 'Disables the secrets engine at the given path.',
        operationId: 'mounts-disable-secrets-engine',
        handler: async (req) => {
          const path = normaliseMountPath(req.params.path);
          if (deps.mounts.isBuiltin(path)) throw sysErrors.builtinMount(path);
          const m = deps.mounts.get(path);
          if (!m) return;
          for (const guard of deps.unmountGuards) await guard(m);
          // The entry as stored when the change applies: its data may have moved since `m` was read.
          let removed: MountEntry | undefined;
          await deps.mounts.update(
            (mounts) => {
              const i = mounts.findIndex((x) => x.path === path);
              removed = i >= 0 ? mounts.splice(i, 1)[0] : undefined;
            },
            () =>
              removed
                ? [
                    { kind: 'deletePrefix', prefix: MountTable.dataPrefix(removed) },
                    // The area a KV upgrade was building goes too; the upgrade notices and stops.
                    ...(removed.kv_upgrade ? [{ kind: 'deletePrefix' as const, prefix: MountTable.areaPrefix(removed.kv_upgrade.area) }] : []),
                  ]
                : [],
          );
        },
      }),
    }),
  });

/** `sys/mounts` and `sys/mounts/:path`: list, read, enable and disable secrets engines. */
export const mountsPaths = (deps: Pick<SystemDeps, 'mounts' | 'unmountGuards'>): PathSpec[] => [mountsListPath(deps), mountPath(deps)];
