import { vInts } from '../kernel/fields.js';
import { defineOperation, type PathSpec } from '../kernel/request.js';
import type { KvV2Engine } from './engine.js';
import { kvErrors } from './errors.js';
import { invalidPathResponse, invalidPathWarning } from './render.js';

type VersionAction = 'delete' | 'undelete' | 'destroy';

const SUMMARY: Record<VersionAction, string> = {
  delete: 'Soft-deletes the listed versions of a secret.',
  undelete: 'Restores the listed soft-deleted versions of a secret.',
  destroy: 'Permanently removes the data of the listed versions of a secret.',
};

const OPERATION_ID: Record<VersionAction, string> = {
  delete: 'kv-v2-delete-versions',
  undelete: 'kv-v2-undelete-versions',
  destroy: 'kv-v2-destroy-versions',
};

/**
 * `<mount>/delete|undelete|destroy/<path>` with `{"versions": [...]}` (kv-v2.md §4.5). Write
 * operations only; a missing secret and unknown versions are not errors.
 */
export function versionPaths(engine: KvV2Engine): PathSpec[] {
  const act: Record<VersionAction, (m: Parameters<KvV2Engine['deleteVersions']>[0], p: string, v: number[]) => Promise<void>> = {
    delete: (m, p, v) => engine.deleteVersions(m, p, v),
    undelete: (m, p, v) => engine.undeleteVersions(m, p, v),
    destroy: (m, p, v) => engine.destroyVersions(m, p, v),
  };
  return (['delete', 'undelete', 'destroy'] as const).map((action) => ({
    pattern: `${action}/:path+`,
    description: SUMMARY[action],
    operations: {
      write: defineOperation({
        summary: SUMMARY[action],
        operationId: OPERATION_ID[action],
        fields: { versions: vInts() },
        handler: async (req) => {
          if (req.trailingSlash) return invalidPathResponse(req, invalidPathWarning(req.operation));
          const versions = req.data.versions ?? [];
          if (versions.length === 0) throw kvErrors.noVersions(action);
          await act[action](req.mount, req.params.path!, versions);
        },
      }),
    },
  }));
}
