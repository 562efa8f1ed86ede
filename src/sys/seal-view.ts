import type { SealState, ServerInfo } from '../kernel/services.js';

/** The raw `sys/seal-status` body; `sys/unseal` answers with it too. */
export function sealStatusBody(deps: { seal: SealState; info: ServerInfo }): Record<string, unknown> {
  const s = deps.seal.status();
  const info = deps.info;
  return {
    type: 'shamir',
    initialized: s.initialized,
    sealed: s.sealed,
    t: s.t,
    n: s.n,
    progress: s.progress,
    nonce: s.nonce,
    version: info.version,
    ferry_version: info.ferryVersion,
    build_date: info.buildDate,
    migration: false,
    ...(s.sealed ? {} : { cluster_name: info.clusterName, cluster_id: info.clusterId }),
    recovery_seal: false,
    storage_type: info.storageType,
  };
}
