import type { PathSpec } from '../../kernel/request.js';
import type { TokenDeps } from './deps.js';
import { accessorsPath } from './path-accessors.js';
import { createOrphanPath } from './path-create-orphan.js';
import { createPath } from './path-create.js';
import { lookupAccessorPath } from './path-lookup-accessor.js';
import { lookupSelfPath } from './path-lookup-self.js';
import { lookupPath } from './path-lookup.js';
import { renewAccessorPath } from './path-renew-accessor.js';
import { renewSelfPath } from './path-renew-self.js';
import { renewPath } from './path-renew.js';
import { revokeAccessorPath } from './path-revoke-accessor.js';
import { revokeSelfPath } from './path-revoke-self.js';
import { revokePath } from './path-revoke.js';

export type { TokenDeps } from './deps.js';
export { TokenStore } from './store.js';

/**
 * `auth/token/*`: create (and create-orphan), lookup, renew and revoke — by token, for the
 * calling token (`-self`) and by accessor — and the accessor list (sudo).
 */
export function tokenPaths(deps: TokenDeps): PathSpec[] {
  return [
    createPath(deps),
    createOrphanPath(deps),
    lookupSelfPath(deps),
    lookupPath(deps),
    lookupAccessorPath(deps),
    renewSelfPath(deps),
    renewPath(deps),
    renewAccessorPath(deps),
    revokeSelfPath(deps),
    revokePath(deps),
    revokeAccessorPath(deps),
    accessorsPath(deps),
  ];
}
