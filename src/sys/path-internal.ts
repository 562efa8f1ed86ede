import { definePath, param, type PathSpec } from '../kernel/request.js';
import type { SystemDeps } from './deps.js';
import { sysErrors } from './errors.js';
import { mountView } from './mount-view.js';

/** `sys/internal/ui/mounts`: the mounts visible to the caller. */
const uiMountsPath = (deps: Pick<SystemDeps, 'mounts' | 'authorizer'>) =>
  definePath({
    pattern: 'internal/ui/mounts',
    unauthenticated: true,
    operations: (op) => ({
      read: op({
        summary: 'Lists the mounts visible to the caller.',
        operationId: 'internal-ui-list-enabled-visible-mounts',
        handler: async (req) => {
          const secret: Record<string, unknown> = {};
          const auth: Record<string, unknown> = {};
          for (const m of deps.mounts.all()) {
            const visible =
              m.config.listing_visibility === 'unauth' || (req.token !== null && (await deps.authorizer.hasAnyUnder(req.token, m.path)));
            if (!visible) continue;
            const view = { ...mountView(m) };
            if (m.path.startsWith('auth/')) auth[m.path.slice('auth/'.length)] = view;
            else secret[m.path] = view;
          }
          return { data: { secret, auth } };
        },
      }),
    }),
  });

/**
 * `sys/internal/ui/mounts/:path`, the `vault kv` CLI's preflight: it tells the CLI where the
 * mount starts and whether it is KV v2. It answers any token that holds some capability under
 * the mount, so a read-only token can still run `vault kv get`, and answers 403 (never 404)
 * otherwise so that mounts cannot be enumerated.
 */
const uiMountPath = (deps: Pick<SystemDeps, 'mounts' | 'authorizer'>) =>
  definePath({
    pattern: 'internal/ui/mounts/:path+',
    params: { path: param.rest() },
    aclExempt: true,
    operations: (op) => ({
      read: op({
        summary: 'Describes the mount serving a path (the CLI KV preflight).',
        operationId: 'internal-ui-read-mount-information',
        handler: async (req) => {
          const target = req.params.path;
          const m = deps.mounts.resolve(target);
          if (!m || !req.token || !(await deps.authorizer.hasAnyUnder(req.token, m.path))) throw sysErrors.preflightDenied(target);
          return { data: { ...mountView(m), path: m.path } };
        },
      }),
    }),
  });

/** `sys/internal/specs/openapi`: the OpenAPI document, generated from the route declarations. */
const openApiPath = (deps: Pick<SystemDeps, 'openApiDocument'>) =>
  definePath({
    pattern: 'internal/specs/openapi',
    unauthenticated: true,
    raw: true,
    operations: (op) => ({
      read: op({
        summary: 'Returns the OpenAPI document of the API this server serves.',
        operationId: 'internal-generate-open-api-document',
        handler: async () => ({ raw: deps.openApiDocument() }),
      }),
    }),
  });

/** `sys/internal/...`: the UI's mount listing, the KV CLI's preflight and the OpenAPI document. */
export const internalPaths = (deps: Pick<SystemDeps, 'mounts' | 'authorizer' | 'openApiDocument'>): PathSpec[] => [
  uiMountsPath(deps),
  uiMountPath(deps),
  openApiPath(deps),
];
