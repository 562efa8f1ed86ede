import type { Core } from '../core.js';
import type { PathSpec } from '../http/route.js';

/** Paths of the `identity/` mount (the OIDC issuer for secrets sync). */
export function identityPaths(_core: Core): PathSpec[] {
  return [];
}
