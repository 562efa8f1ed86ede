import type { SyncDeps } from './deps.js';
import { vString } from '../kernel/fields.js';
import { definePath, param, type PathSpec } from '../kernel/request.js';
import { normaliseMountPath } from '../sys/mount-table.js';
import { syncErrors } from './errors.js';
import type { SyncService } from './service.js';
import { summaryStatus } from './views.js';

/**
 * `sys/sync/associations`: every associated secret, and the destinations of one secret (by
 * query parameters, or by path as Vault's UI asks).
 */
export function associationPaths(core: Pick<SyncDeps, 'mounts'>, sync: SyncService): PathSpec[] {
  const associatedDestinations = async (mountParam: string, secret: string) => {
    const m = core.mounts.get(normaliseMountPath(mountParam));
    if (!m) throw syncErrors.mountNotFound(mountParam);
    const associations = await Promise.all((await sync.associationsOfSecret(m.accessor, secret)).map((a) => sync.withDisplayStatus(a)));
    if (associations.length === 0) throw syncErrors.associationsAbsent();
    const out: Record<string, unknown> = {};
    for (const a of associations) {
      out[`${a.dest_type}/${a.dest_name}`] = { type: a.dest_type, name: a.dest_name, ...summaryStatus(a) };
    }
    return { data: { associated_destinations: out } };
  };

  return [
    definePath({
      pattern: 'sync/associations',
      operations: (op) => ({
        list: op({
          summary: 'Lists every secret with at least one association.',
          operationId: 'system-list-sync-associations',
          handler: async () => {
            const groups = await sync.allAssociationsBySecret();
            const keysOut: string[] = [];
            const keyInfo: Record<string, Array<{ mount: string; secret_path: string }>> = {};
            let total = 0;
            for (const g of groups) {
              const mount = core.mounts.byAccessor(g.accessor);
              const mountPath = mount?.path ?? `${g.accessor}/`;
              const id = `${mountPath.replace(/\/$/, '')}/${g.secret}`;
              keysOut.push(id);
              keyInfo[id] = [{ mount: mountPath, secret_path: g.secret }];
              total += g.destinations.length;
            }
            if (keysOut.length === 0) throw syncErrors.nothingListed();
            keysOut.sort();
            return { data: { keys: keysOut, key_info: keyInfo, total_associations: total, total_secrets: keysOut.length } };
          },
        }),
      }),
    }),
    definePath({
      // Before the path form, which would take `destinations` for a mount.
      pattern: 'sync/associations/destinations',
      operations: (op) => ({
        read: op({
          summary: 'Lists the destinations a secret is associated with (query-parameter form).',
          operationId: 'system-read-sync-associations-destinations',
          fields: { mount: vString(), secret_name: vString() },
          handler: async (req) => {
            if (!req.data.mount || !req.data.secret_name) throw syncErrors.missingMountAndSecret();
            return associatedDestinations(req.data.mount, req.data.secret_name);
          },
        }),
      }),
    }),
    definePath({
      // Vault's `:mount/:secret_name`, as one rest parameter: either part may contain `/`.
      pattern: 'sync/associations/:path+',
      params: { path: param.rest() },
      operations: (op) => ({
        read: op({
          summary: 'Lists the destinations a secret is associated with.',
          operationId: 'system-read-sync-associations-mount-secret-name',
          handler: async (req) => {
            // The path form is ambiguous when mount or secret contain "/": resolve the mount by longest prefix.
            const { path } = req.params;
            const mount = core.mounts.resolve(path);
            if (!mount || !path.startsWith(mount.path)) throw syncErrors.associationsAbsent();
            return associatedDestinations(mount.path, path.slice(mount.path.length));
          },
        }),
      }),
    }),
  ];
}
