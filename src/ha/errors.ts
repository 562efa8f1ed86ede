import { defineError } from '../kernel/errors.js';

/** High availability's own errors: a standby that cannot hand a request to the active node. */
export const haErrors = {
  /** A standby that knows no active node (none elected yet, or the database unreachable): Vault's wording. */
  noActiveNode: defineError('ha.no_active_node', 'unavailable', () => 'local node not active but active cluster node not found'),
  /** The active node did not answer a forwarded request (it died, or the network is cut): a retry reaches the next one. */
  forwardingFailed: defineError(
    'ha.forwarding_failed',
    'unavailable',
    () => 'error forwarding the request to the active node; the cluster may be electing a new one: retry',
  ),
  /** A request forwarded to a node that is no longer active (it stepped down meanwhile). */
  notActive: defineError('ha.not_active', 'unavailable', () => 'this node is not the active node: retry'),
};
