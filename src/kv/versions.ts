import type { LogicalRequest, LogicalResponse } from '../kernel/request.js';
import type { KvV2Engine } from './engine.js';
import { kvErrors } from './errors.js';
import { invalidPathResponse, invalidPathWarning } from './render.js';

/** The three write-only actions on listed versions of a secret (kv-v2.md §4.5). */
export type VersionAction = 'delete' | 'undelete' | 'destroy';

/**
 * Applies `action` to the versions a request lists; a missing secret and unknown versions are
 * not errors. A path ending in `/` names no secret: it is one of the mount's invalid paths.
 */
export async function applyToVersions(
  engine: KvV2Engine,
  action: VersionAction,
  req: LogicalRequest<{ versions?: number[] }, { path: string }>,
): Promise<LogicalResponse | void> {
  if (req.trailingSlash) return invalidPathResponse(req, invalidPathWarning(req.operation));
  const versions = req.data.versions ?? [];
  if (versions.length === 0) throw kvErrors.noVersions(action);
  if (action === 'delete') await engine.deleteVersions(req.mount, req.params.path, versions);
  else if (action === 'undelete') await engine.undeleteVersions(req.mount, req.params.path, versions);
  else await engine.destroyVersions(req.mount, req.params.path, versions);
}
