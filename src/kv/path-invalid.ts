import { definePath, everyOperation, param, type LogicalRequest, type LogicalResponse, type PathSpec } from '../kernel/request.js';
import { kvErrors } from './errors.js';
import { ROOT_WARNING, invalidPathResponse, invalidPathWarning } from './render.js';

/** Path families whose bare root (`data`, `metadata`, …) gets the root warning. */
const ROOTS = new Set(['data', 'metadata', 'delete', 'undelete', 'destroy']);

/**
 * Everything else under a KV v2 mount (kv-v2.md §7): a 404 that still carries an envelope
 * with a warning pointing at the `vault kv` subcommand to use, because the most common
 * cause is a KV v1 style request (`vault read secret/foo`) against a v2 mount. Declared
 * last: it matches every path the families before it did not.
 */
export function invalidPaths(): PathSpec {
  const answer = async (req: LogicalRequest<unknown, { path: string }>): Promise<LogicalResponse> => {
    const path = req.params.path;
    if (path === 'data' && req.trailingSlash && ['create', 'update', 'patch'].includes(req.operation)) {
      // `data/` names the data family with an empty secret path.
      throw kvErrors.missingPath();
    }
    return invalidPathResponse(req, ROOTS.has(path) ? ROOT_WARNING : invalidPathWarning(req.operation));
  };
  return definePath({
    pattern: ':path*',
    params: { path: param.optionalRest() },
    description: 'Paths a KV v2 mount does not serve.',
    operations: (op) => everyOperation(op, 'Answers 404 with a warning: the path is not one a KV v2 mount serves.', 'kv-v2-invalid-path', answer),
  });
}
