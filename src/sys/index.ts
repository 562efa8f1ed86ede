import type { PathSpec } from '../kernel/request.js';
import type { SystemDeps } from './deps.js';
import { activationFlagsPaths } from './path-activation-flags.js';
import { auditHashPath } from './path-audit-hash.js';
import { auditPaths } from './path-audit.js';
import { authTunePath } from './path-auth-tune.js';
import { authPaths } from './path-auth.js';
import { capabilitiesAccessorPath } from './path-capabilities-accessor.js';
import { capabilitiesSelfPath } from './path-capabilities-self.js';
import { capabilitiesPath } from './path-capabilities.js';
import { haStatusPath } from './path-ha-status.js';
import { healthPath } from './path-health.js';
import { initPath } from './path-init.js';
import { internalPaths } from './path-internal.js';
import { keyStatusPath } from './path-key-status.js';
import { leaderPath } from './path-leader.js';
import { metricsPath } from './path-metrics.js';
import { mountsTunePath } from './path-mounts-tune.js';
import { mountsPaths } from './path-mounts.js';
import { policiesPaths } from './path-policies.js';
import { policyPaths } from './path-policy.js';
import { rotatePath } from './path-rotate.js';
import { sealStatusPath } from './path-seal-status.js';
import { sealPath } from './path-seal.js';
import { stepDownPath } from './path-step-down.js';
import { storagePaths } from './path-storage.js';
import { unsealPath } from './path-unseal.js';
import { versionHistoryPath } from './path-version-history.js';

export type { SystemDeps, UnmountGuard } from './deps.js';
export { ClusterIdentity } from './cluster-identity.js';
export { VersionHistory } from './version-history.js';

/**
 * The paths of the `sys/` mount that Ferry's own `sys` feature serves (secrets sync adds its
 * `sys/sync/*` paths beside them). Order matters only where patterns overlap: a more specific
 * pattern (`mounts/:path+/tune`) comes before the one it would otherwise fall into.
 */
export function systemPaths(deps: SystemDeps): PathSpec[] {
  return [
    healthPath(deps),
    sealStatusPath(deps),
    leaderPath(deps),
    initPath(deps),
    unsealPath(deps),
    sealPath(deps),
    stepDownPath(deps),
    haStatusPath(deps),
    ...storagePaths(deps),
    rotatePath(deps),
    keyStatusPath(deps),
    mountsTunePath(deps),
    ...mountsPaths(deps),
    authTunePath(deps),
    ...authPaths(deps),
    ...internalPaths(deps),
    ...policiesPaths(deps),
    ...policyPaths(deps),
    capabilitiesSelfPath(deps),
    capabilitiesPath(deps),
    capabilitiesAccessorPath(deps),
    ...auditPaths(deps),
    auditHashPath(deps),
    ...activationFlagsPaths(),
    versionHistoryPath(deps),
    metricsPath(deps),
  ];
}
