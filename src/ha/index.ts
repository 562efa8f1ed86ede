export { ClusterKey, CLUSTER_PSK_IDENTITY } from './cluster-key.js';
export { DEFAULT_HA_TIMING, HaCoordinator, SINGLE_NODE, type HaTiming, type HaView, type StandbyLink } from './coordinator.js';
export { haErrors } from './errors.js';
