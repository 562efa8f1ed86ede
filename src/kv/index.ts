import type { Core } from '../core.js';
import type { Backend } from '../http/route.js';

/** The KV secrets engines: version 1 (plain key/value) and version 2 (versioned). */
export function kvBackends(_core: Core): { v1: Backend; v2: Backend } {
  return { v1: { mountType: 'kv', paths: [] }, v2: { mountType: 'kv', paths: [] } };
}
