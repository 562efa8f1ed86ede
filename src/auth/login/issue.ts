import { permissionDenied } from '../../kernel/errors.js';
import type { LogicalRequest, LogicalResponse } from '../../kernel/request.js';
import type { LeaseTtls } from '../../kernel/services.js';
import { goDuration, sanitizePolicies } from '../token/rules.js';
import type { TokenStore } from '../token/store.js';
import { authBlock } from '../token/views.js';
import { loginErrors } from './errors.js';
import { checkBatch, type TokenSettings } from './token-fields.js';

/** What issuing a login token needs, wired in the composition root. */
export interface IssueDeps {
  tokens: Pick<TokenStore, 'create' | 'revokeTree'>;
  /** Whether the auth mount with this accessor is still enabled. */
  mountEnabled(accessor: string): boolean;
  clock: () => number;
  /** The server's default and max lease TTLs, what a mount's 0 stands for. */
  leaseTtls: LeaseTtls;
}

/** Who logged in, as the method decided: the token's settings, its metadata and display name. */
export interface LoginGrant {
  settings: TokenSettings;
  metadata: Record<string, string>;
  /** The user-facing part of the display name (`alice`); the mount's path is put in front. */
  displayName: string;
}

/**
 * The token's TTL and renewal cap by Vault's rules for a login (its CalculateTTL): the role's
 * TTL or else the mount's default lease TTL, never past the smallest of the mount's max lease
 * TTL, the role's max TTL and its explicit max TTL; a periodic token lives one period, capped
 * the same way.
 */
export function loginTtl(settings: TokenSettings, mountConfig: { default_lease_ttl: number; max_lease_ttl: number }, leaseTtls: LeaseTtls) {
  const warnings: string[] = [];
  const mountMax = mountConfig.max_lease_ttl || leaseTtls.maxTtl;
  const mountDefault = Math.min(mountConfig.default_lease_ttl || leaseTtls.defaultTtl, mountMax);
  let maxTtl = mountMax;
  if (settings.token_max_ttl > 0) maxTtl = Math.min(maxTtl, settings.token_max_ttl);
  if (settings.token_explicit_max_ttl > 0) maxTtl = Math.min(maxTtl, settings.token_explicit_max_ttl);
  let period = settings.token_period;
  let ttl: number;
  if (period > 0) {
    if (period > maxTtl) {
      warnings.push(`period of "${goDuration(period)}" exceeded the effective max_ttl of "${goDuration(maxTtl)}"; period value is capped accordingly`);
      period = maxTtl;
    }
    ttl = period;
  } else {
    ttl = settings.token_ttl > 0 ? settings.token_ttl : mountDefault;
    if (ttl > maxTtl) {
      warnings.push(`TTL of "${goDuration(ttl)}" exceeded the effective max_ttl of "${goDuration(maxTtl)}"; TTL value is capped accordingly`);
      ttl = maxTtl;
    }
  }
  return { ttl, period, maxTtl, warnings };
}

/**
 * The type of a login's token, as Vault decides it: a mount tuned to `service` or `batch`
 * decides for every role; otherwise the role's own type, or else the mount's default
 * (`default-batch` → batch, `default-service` or unset → service).
 */
export function loginTokenType(roleType: TokenSettings['token_type'], mountType: unknown): 'service' | 'batch' {
  if (mountType === 'service' || mountType === 'batch') return mountType;
  if (roleType !== 'default') return roleType;
  return mountType === 'default-batch' ? 'batch' : 'service';
}

/** `userpass` + `alice` → `userpass-alice`; `team/ci` + `` → `team-ci`: Vault's login display names. */
function displayNameOf(mountPath: string, name: string): string {
  const source = mountPath.replace(/^auth\//, '').replace(/\//g, '-');
  return `${source}${name}`.replace(/[^a-zA-Z0-9-]/g, '-').replace(/-+$/, '');
}

/**
 * Issues the token of a successful login through the token store: an orphan token with the
 * grant's policies (plus `default` unless `token_no_default_policy`), TTLs, use limit and bound
 * CIDRs, recorded against the issuing mount so that disabling it revokes the token (a batch
 * token, which nothing can revoke, carries the mount and is refused once the mount is gone).
 */
export async function issueLoginToken(
  deps: IssueDeps,
  req: LogicalRequest<unknown, unknown>,
  grant: LoginGrant,
): Promise<LogicalResponse> {
  const s = grant.settings;
  const policies = sanitizePolicies([...s.token_policies, ...(s.token_no_default_policy ? [] : ['default'])]);
  if (policies.includes('root')) throw loginErrors.rootPolicy();
  const type = loginTokenType(s.token_type, req.mount.config.token_type);
  // A role of the default type on a mount that defaults to batch tokens is checked here.
  if (type === 'batch') checkBatch(s);
  const { ttl, period, maxTtl, warnings } = loginTtl(s, req.mount.config, deps.leaseTtls);
  const created = await deps.tokens.create({
    type,
    policies,
    parent: null,
    ttl,
    explicit_max_ttl: s.token_explicit_max_ttl,
    period,
    num_uses: s.token_num_uses,
    renewable: type === 'service',
    display_name: displayNameOf(req.mount.path, grant.displayName),
    meta: Object.keys(grant.metadata).length > 0 ? grant.metadata : null,
    path: req.path,
    bound_cidrs: s.token_bound_cidrs,
    mount_accessor: req.mount.accessor,
    max_ttl: period > 0 ? undefined : maxTtl,
  });
  // The mount was disabled while this login ran: its revocation may have missed this token.
  if (!deps.mountEnabled(req.mount.accessor)) {
    // A batch token is stored nowhere; it carries the mount and is refused from now on anyway.
    if (type === 'service') await deps.tokens.revokeTree(created.entry.hash);
    throw permissionDenied();
  }
  // Vault reports an empty mount_type on login responses.
  return { data: null, auth: authBlock(created.id, created.entry, deps.clock()), warnings, mountType: '' };
}
