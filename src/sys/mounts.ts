import { z } from 'zod';
import type { SystemDeps } from './deps.js';
import { badRequest, notFound } from '../kernel/errors.js';
import { vBool, vMap, vString, parseDuration } from '../kernel/fields.js';
import { defineOperation, type PathSpec } from '../kernel/request.js';
import { MountTable, SUPPORTED_TYPES, normaliseMountPath } from './mount-table.js';
import type { MountEntry } from '../kernel/entries.js';
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

/** Lease TTLs in mount config: `"0s"`, `""` and `"system"` mean "inherit the system default" (0). */
function configTtl(value: unknown, field: string): number {
  if (value === undefined || value === null || value === 'system' || value === '') return 0;
  const s = parseDuration(value);
  if (s === undefined) throw badRequest(`Field validation failed: error converting input ${String(value)} for field "${field}": time: invalid duration`);
  return s;
}

/** Options values are strings on the wire (hvac users send `{"version": 2}`). */
function stringOptions(options: Record<string, unknown> | undefined): Record<string, string> | null {
  if (!options) return null;
  return Object.fromEntries(Object.entries(options).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]));
}

/** Resolves Vault's KV shorthands: `kv-v2` → `kv` + version "2", `kv-v1` → "1". */
export function resolveEngineType(type: string, options: Record<string, string> | null): { type: string; options: Record<string, string> | null } {
  let resolved = type;
  let opts = options ? { ...options } : null;
  if (type === 'kv-v2' || type === 'kv-v1') {
    resolved = 'kv';
    opts = { ...(opts ?? {}), version: type === 'kv-v2' ? '2' : '1' };
  }
  if (!SUPPORTED_TYPES.has(resolved)) throw badRequest(`plugin not found in the catalog: ${type}`);
  if (opts?.version !== undefined) {
    if (resolved !== 'kv') throw badRequest(`secrets engine "${resolved}" does not allow setting a version`);
    if (opts.version === '') delete opts.version;
    else if (opts.version !== '1' && opts.version !== '2') throw badRequest(`invalid KV version "${opts.version}": must be 1 or 2`);
  }
  return { type: resolved, options: opts };
}

/** `sys/mounts` and `sys/mounts/:path[/tune]`: enable, disable, list, read and tune secrets engines. */
export function mountPaths(core: SystemDeps): PathSpec[] {
  const mountFor = (raw: string): MountEntry => {
    const path = normaliseMountPath(raw);
    const m = core.mounts.get(path);
    if (!m) throw badRequest(`no mount at path "${path}"`);
    return m;
  };

  return [
    {
      pattern: 'mounts',
      injector: true,
      operations: {
        read: defineOperation({
          summary: 'Lists all the mounted secrets engines.',
          operationId: 'mounts-list-secrets-engines',
          response: z.record(z.string(), mountObject),
          handler: async () => ({
            data: Object.fromEntries(
              core.mounts
                .all()
                .filter((m) => !m.path.startsWith('auth/'))
                .map((m) => [m.path, mountView(m)]),
            ),
          }),
        }),
      },
    },
    {
      pattern: 'mounts/:path+/tune',
      injector: true,
      operations: {
        read: defineOperation({
          summary: 'Reads the tuning of a secrets engine.',
          operationId: 'mounts-read-tuning-information',
          handler: async (req) => {
            const m = mountFor(req.params.path!);
            return {
              data: {
                default_lease_ttl: m.config.default_lease_ttl || 2764800,
                max_lease_ttl: m.config.max_lease_ttl || 2764800,
                force_no_cache: m.config.force_no_cache,
                description: m.description,
                options: m.options,
              },
            };
          },
        }),
        write: defineOperation({
          summary: 'Tunes a secrets engine.',
          operationId: 'mounts-tune-configuration-parameters',
          fields: {
            description: vString(),
            default_lease_ttl: z.union([z.number(), z.string()]),
            max_lease_ttl: z.union([z.number(), z.string()]),
            options: vMap(),
            listing_visibility: vString(),
          },
          handler: async (req) => {
            const m = mountFor(req.params.path!);
            const options = stringOptions(req.data.options);
            if (options?.version !== undefined && m.type !== 'kv') {
              throw badRequest(`secrets engine "${m.type}" does not allow setting a version`);
            }
            if (options?.version !== undefined && options.version !== '' && m.options?.version === '2' && options.version !== '2') {
              throw badRequest('cannot downgrade mount from KV version 2');
            }
            const defaultTtl = req.data.default_lease_ttl !== undefined ? configTtl(req.data.default_lease_ttl, 'default_lease_ttl') : undefined;
            const maxTtl = req.data.max_lease_ttl !== undefined ? configTtl(req.data.max_lease_ttl, 'max_lease_ttl') : undefined;
            await core.mounts.update((mounts) => {
              const target = mounts.find((x) => x.path === m.path)!;
              if (req.data.description !== undefined) target.description = req.data.description;
              if (defaultTtl !== undefined) target.config.default_lease_ttl = defaultTtl;
              if (maxTtl !== undefined) target.config.max_lease_ttl = maxTtl;
              if (req.data.listing_visibility !== undefined) target.config.listing_visibility = req.data.listing_visibility;
              if (options) {
                const merged = { ...(target.options ?? {}), ...options };
                if (merged.version === '') delete merged.version;
                target.options = merged;
              }
            });
          },
        }),
      },
    },
    {
      pattern: 'mounts/:path+',
      injector: true,
      operations: {
        read: defineOperation({
          summary: 'Reads the configuration of a secrets engine.',
          operationId: 'mounts-read-configuration',
          response: mountObject,
          handler: async (req) => {
            const m = core.mounts.get(normaliseMountPath(req.params.path!));
            if (!m) throw notFound();
            return { data: mountView(m) };
          },
        }),
        write: defineOperation({
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
            const path = normaliseMountPath(req.params.path!);
            const requested = req.data.type || req.data.plugin_name;
            if (!requested) throw badRequest('backend type must be specified as a string');
            const { type, options } = resolveEngineType(requested, stringOptions(req.data.options));
            const config = req.data.config ?? {};
            const entryConfig: MountEntry['config'] = {
              default_lease_ttl: configTtl(config.default_lease_ttl, 'default_lease_ttl'),
              max_lease_ttl: configTtl(config.max_lease_ttl, 'max_lease_ttl'),
              force_no_cache: config.force_no_cache === true || config.force_no_cache === 'true',
            };
            if (typeof config.listing_visibility === 'string' && config.listing_visibility !== '') {
              if (!['unauth', 'hidden'].includes(config.listing_visibility)) {
                throw badRequest(`invalid listing_visibility ${config.listing_visibility}`);
              }
              entryConfig.listing_visibility = config.listing_visibility;
            }
            await core.mounts.update((mounts) => {
              core.mounts.checkAvailable(path);
              mounts.push(
                core.mounts.build(path, type, {
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
        delete: defineOperation({
          summary: 'Disables the secrets engine at the given path.',
          operationId: 'mounts-disable-secrets-engine',
          handler: async (req) => {
            const path = normaliseMountPath(req.params.path!);
            if (core.mounts.isBuiltin(path)) throw badRequest(`cannot unmount "${path}"`);
            const m = core.mounts.get(path);
            if (!m) return;
            for (const guard of core.unmountGuards) await guard(m);
            await core.mounts.update(
              (mounts) => {
                const i = mounts.findIndex((x) => x.path === path);
                if (i >= 0) mounts.splice(i, 1);
              },
              () => [{ kind: 'deletePrefix', prefix: MountTable.dataPrefix(m) }],
            );
          },
        }),
      },
    },
  ];
}

