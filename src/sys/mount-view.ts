import type { MountEntry } from '../kernel/entries.js';

/** The mount object exactly as `sys/mounts`, `sys/mounts/:path` and the KV preflight report it. */
export function mountView(m: MountEntry): Record<string, unknown> {
  return {
    accessor: m.accessor,
    config: {
      default_lease_ttl: m.config.default_lease_ttl,
      force_no_cache: m.config.force_no_cache,
      max_lease_ttl: m.config.max_lease_ttl,
      ...(m.config.listing_visibility ? { listing_visibility: m.config.listing_visibility } : {}),
    },
    deprecation_status: m.type === 'kv' ? 'supported' : undefined,
    description: m.description,
    external_entropy_access: m.external_entropy_access,
    local: m.local,
    options: m.options,
    plugin_version: m.plugin_version,
    running_plugin_version: runningVersion(m),
    running_sha256: '',
    seal_wrap: m.seal_wrap,
    type: m.type,
    uuid: m.uuid,
  };
}

function runningVersion(m: MountEntry): string {
  if (m.type === 'kv') return 'v0.25.0+builtin';
  return 'v1.21.0+builtin.vault';
}

/** An auth mount as `sys/auth` reports it: a mount object whose config also names its token type. */
export function authMountView(m: MountEntry): Record<string, unknown> {
  const view = mountView(m);
  return {
    ...view,
    config: { ...(view.config as Record<string, unknown>), token_type: m.config.token_type ?? 'default-service' },
    deprecation_status: m.type === 'token' ? undefined : 'supported',
  };
}
