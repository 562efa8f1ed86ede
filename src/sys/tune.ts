import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { MountEntry } from '../kernel/entries.js';
import { vMap, vString } from '../kernel/fields.js';
import type { LogicalResponse } from '../kernel/request.js';
import type { SystemDeps } from './deps.js';
import { sysErrors } from './errors.js';
import { checkTunedOptions, configTtl, kvVersionOf, listingVisibility, mountTokenType, stringOptions, versionChangeWarning } from './mount-rules.js';

export type TuneDeps = Pick<SystemDeps, 'mounts' | 'leaseTtls' | 'kvUpgrades' | 'clock'>;

/**
 * A mount's tuning, shared by `sys/mounts/:path/tune` (which `vault auth tune` also calls, as
 * `sys/mounts/auth/<path>/tune`) and `sys/auth/:path/tune`: the effective lease TTLs in
 * seconds (the server's defaults where the mount has none), and for an auth mount the token
 * type it issues.
 */
export function tuneView(deps: Pick<TuneDeps, 'leaseTtls'>, m: MountEntry): Record<string, unknown> {
  return {
    default_lease_ttl: m.config.default_lease_ttl || deps.leaseTtls.defaultTtl,
    max_lease_ttl: m.config.max_lease_ttl || deps.leaseTtls.maxTtl,
    force_no_cache: m.config.force_no_cache,
    description: m.description,
    options: m.options,
    ...(m.path.startsWith('auth/') ? { token_type: m.config.token_type ?? 'default-service' } : {}),
  };
}

export const tuneFields = {
  description: vString(),
  default_lease_ttl: z.union([z.number(), z.string()]),
  max_lease_ttl: z.union([z.number(), z.string()]),
  options: vMap(),
  listing_visibility: vString(),
  token_type: vString(),
};

export type TuneInput = { [K in keyof typeof tuneFields]?: z.output<(typeof tuneFields)[K]> };

/** Applies the tune fields given (only those) to the mount `m`; a KV version change warns and may start an upgrade. */
export async function applyTune(deps: TuneDeps, m: MountEntry, input: TuneInput): Promise<LogicalResponse | undefined> {
  const options = stringOptions(input.options);
  const versionChange = checkTunedOptions(m, options);
  const defaultTtl = input.default_lease_ttl !== undefined ? configTtl(input.default_lease_ttl, 'default_lease_ttl') : undefined;
  const maxTtl = input.max_lease_ttl !== undefined ? configTtl(input.max_lease_ttl, 'max_lease_ttl') : undefined;
  if (input.token_type !== undefined && !m.path.startsWith('auth/')) throw sysErrors.mountTokenTypeOnSecrets();
  const tokenType = mountTokenType(input.token_type);
  // "" clears the visibility; anything else must be one Vault knows.
  const visibility = input.listing_visibility === undefined ? undefined : (listingVisibility(input.listing_visibility) ?? '');
  let upgrade = false;
  await deps.mounts.update((mounts) => {
    const target = mounts.find((x) => x.path === m.path)!;
    // KV version 1 → 2 moves the data: the mount is marked in this same commit, so an
    // upgrade interrupted at any point is resumed (`kv/upgrade.ts`). Decided on the
    // stored entry, so two concurrent tunes start one upgrade.
    upgrade = versionChange?.to === 2 && kvVersionOf(target) < 2;
    if (upgrade) target.kv_upgrade = { area: randomUUID(), from: kvVersionOf(target), started: deps.clock() };
    if (input.description !== undefined) target.description = input.description;
    if (defaultTtl !== undefined) target.config.default_lease_ttl = defaultTtl;
    if (maxTtl !== undefined) target.config.max_lease_ttl = maxTtl;
    if (visibility !== undefined) target.config.listing_visibility = visibility;
    if (tokenType !== undefined) target.config.token_type = tokenType;
    if (options) target.options = { ...(target.options ?? {}), ...options };
  });
  if (upgrade) await deps.kvUpgrades.start(m.path);
  return versionChange ? { warnings: [versionChangeWarning(versionChange)] } : undefined;
}
