import type { SystemDeps } from './deps.js';
import { FerryError } from '../kernel/errors.js';
import { defineOperation, type PathSpec } from '../kernel/request.js';
import { mountView } from './mount-view.js';

/**
 * `sys/internal/ui/mounts[/:path]`. The second form is the `vault kv` CLI's preflight: it
 * tells the CLI where the mount starts and whether it is KV v2. It answers any token that
 * holds some capability under the mount, so a read-only token can still run `vault kv get`,
 * and answers 403 (never 404) otherwise so that mounts cannot be enumerated.
 */
export function internalUiPaths(core: SystemDeps): PathSpec[] {
  return [
    {
      pattern: 'internal/ui/mounts',
      unauthenticated: true,
      operations: {
        read: defineOperation({
          summary: 'Lists the mounts visible to the caller.',
          operationId: 'internal-ui-list-enabled-visible-mounts',
          handler: async (req) => {
            const secret: Record<string, unknown> = {};
            const auth: Record<string, unknown> = {};
            for (const m of core.mounts.all()) {
              const visible =
                m.config.listing_visibility === 'unauth' ||
                (req.token !== null && (await core.authorizer.hasAnyUnder(req.token, m.path)));
              if (!visible) continue;
              const view = { ...mountView(m) };
              if (m.path.startsWith('auth/')) auth[m.path.slice('auth/'.length)] = view;
              else secret[m.path] = view;
            }
            return { data: { secret, auth } };
          },
        }),
      },
    },
    {
      pattern: 'internal/ui/mounts/:path+',
      aclExempt: true,
      operations: {
        read: defineOperation({
          summary: 'Describes the mount serving a path (the CLI KV preflight).',
          operationId: 'internal-ui-read-mount-information',
          handler: async (req) => {
            const target = req.params.path!;
            const m = core.mounts.resolve(target);
            const denied = () =>
              new FerryError('sys.internal_ui_denied', 'denied', [
                `preflight capability check returned 403, please ensure client's policies grant access to path "${target}/"`,
              ]);
            if (!m || !req.token || !(await core.authorizer.hasAnyUnder(req.token, m.path))) throw denied();
            return { data: { ...mountView(m), path: m.path } };
          },
        }),
      },
    },
  ];
}
