import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { vMap, vString } from '../kernel/fields.js';
import { definePath, param } from '../kernel/request.js';
import type { SystemDeps } from './deps.js';
import { checkTunedOptions, configTtl, existingMount, kvVersionOf, stringOptions, versionChangeWarning } from './mount-rules.js';

/**
 * `sys/mounts/:path/tune` (an injector path): read and change a mount's tuning. The CLI's
 * `vault kv enable-versioning` sends `sys/mounts/<mount>//tune`; the wire layer folds the
 * double slash, so it lands here too.
 */
export const mountsTunePath = (deps: Pick<SystemDeps, 'mounts' | 'leaseTtls' | 'kvUpgrades' | 'clock'>) =>
  definePath({
    pattern: 'mounts/:path+/tune',
    params: { path: param.rest() },
    injector: true,
    operations: (op) => ({
      read: op({
        summary: 'Reads the tuning of a secrets engine.',
        operationId: 'mounts-read-tuning-information',
        handler: async (req) => {
          const m = existingMount(deps.mounts, req.params.path);
          return {
            data: {
              default_lease_ttl: m.config.default_lease_ttl || deps.leaseTtls.defaultTtl,
              max_lease_ttl: m.config.max_lease_ttl || deps.leaseTtls.maxTtl,
              force_no_cache: m.config.force_no_cache,
              description: m.description,
              options: m.options,
            },
          };
        },
      }),
      write: op({
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
          const m = existingMount(deps.mounts, req.params.path);
          const options = stringOptions(req.data.options);
          const versionChange = checkTunedOptions(m, options);
          const defaultTtl = req.data.default_lease_ttl !== undefined ? configTtl(req.data.default_lease_ttl, 'default_lease_ttl') : undefined;
          const maxTtl = req.data.max_lease_ttl !== undefined ? configTtl(req.data.max_lease_ttl, 'max_lease_ttl') : undefined;
          let upgrade = false;
          await deps.mounts.update((mounts) => {
            const target = mounts.find((x) => x.path === m.path)!;
            // KV version 1 → 2 moves the data: the mount is marked in this same commit, so an
            // upgrade interrupted at any point is resumed (`kv/upgrade.ts`). Decided on the
            // stored entry, so two concurrent tunes start one upgrade.
            upgrade = versionChange?.to === 2 && kvVersionOf(target) < 2;
            if (upgrade) target.kv_upgrade = { area: randomUUID(), from: kvVersionOf(target), started: deps.clock() };
            if (req.data.description !== undefined) target.description = req.data.description;
            if (defaultTtl !== undefined) target.config.default_lease_ttl = defaultTtl;
            if (maxTtl !== undefined) target.config.max_lease_ttl = maxTtl;
            if (req.data.listing_visibility !== undefined) target.config.listing_visibility = req.data.listing_visibility;
            if (options) target.options = { ...(target.options ?? {}), ...options };
          });
          if (upgrade) await deps.kvUpgrades.start(m.path);
          return versionChange ? { warnings: [versionChangeWarning(versionChange)] } : undefined;
        },
      }),
    }),
  });
