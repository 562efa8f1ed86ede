import { VAULT_LEASE_TTLS, type LeaseTtls } from '../../kernel/services.js';
import type { TokenEntry } from '../../kernel/entries.js';
import { normalisePolicyName } from '../policy-name.js';
import { tokenErrors } from './errors.js';


/** Go's `time.Duration.String()` for whole seconds, as Vault prints TTLs in warnings (`768h0m0s`). */
export function goDuration(seconds: number): string {
  if (seconds === 0) return '0s';
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  if (h > 0) return `${h}h${m}m${s}s`;
  if (m > 0) return `${m}m${s}s`;
  return `${s}s`;
}

/** Lower-cased, trimmed, de-duplicated and sorted, as Vault normalises policy lists. */
export function sanitizePolicies(policies: string[]): string[] {
  return [...new Set(policies.map(normalisePolicyName).filter((p) => p !== ''))].sort();
}

/** What `auth/token/create` accepts, after field decoding. */
export interface TokenCreateRequest {
  id?: string;
  policies?: string[];
  meta?: Record<string, string>;
  no_parent?: boolean;
  no_default_policy?: boolean;
  ttl?: number;
  explicit_max_ttl?: number;
  period?: number;
  display_name?: string;
  num_uses?: number;
  renewable?: boolean;
  type?: string;
}

/** The decided properties of a new token, ready for `TokenStore.create`. */
export interface TokenPlan {
  type: 'service' | 'batch';
  id?: string;
  policies: string[];
  orphan: boolean;
  ttl: number;
  explicit_max_ttl: number;
  period: number;
  num_uses: number;
  renewable: boolean;
  display_name: string;
  meta: Record<string, string> | null;
  warnings: string[];
}

const isRoot = (t: TokenEntry) => t.policies.includes('root');

/**
 * Vault's token creation rules: who may set an id, create orphans or periodic tokens;
 * policy inheritance and the subset rule; the `default` policy; TTL defaults and caps.
 * A child never outlives its parent: its expiry is capped at the parent's, so that a
 * parent's expiry ends its subtree without walking the tree on every request.
 *
 * `privileged` is true for root tokens and tokens with `sudo` on the create path.
 */
export function planToken(
  parent: TokenEntry,
  privileged: boolean,
  req: TokenCreateRequest,
  orphanPath: boolean,
  nowSeconds: number,
  leaseTtls: LeaseTtls = VAULT_LEASE_TTLS,
): TokenPlan {
  const { defaultTtl: DEFAULT_TOKEN_TTL, maxTtl: MAX_TOKEN_TTL } = leaseTtls;
  const warnings: string[] = [];
  // Vault checks this before anything else, policies included.
  if (parent.type === 'batch') throw tokenErrors.batchCannotCreate();
  if (req.type !== undefined && !['', 'service', 'default', 'batch'].includes(req.type)) throw tokenErrors.invalidType(req.type);
  const batch = req.type === 'batch';
  if (batch) {
    // Vault's order: the first of these set is named.
    for (const [field, value] of [
      ['explicit_max_ttl', req.explicit_max_ttl],
      ['num_uses', req.num_uses],
      ['period', req.period],
    ] as const) {
      if (value !== undefined && value !== 0) throw tokenErrors.batchCannotHave(field);
    }
    // The token is its own sealed entry: there is no id to choose.
    if (req.id) throw tokenErrors.batchCannotHave('id');
  }
  if (req.id) {
    if (!privileged) throw tokenErrors.customIdNeedsPrivilege();
    if (req.id.includes('.')) throw tokenErrors.customIdWithDot();
  }
  const numUses = req.num_uses ?? 0;
  if (numUses < 0) throw tokenErrors.negativeUses();
  if (req.no_parent && !orphanPath && !privileged) throw tokenErrors.orphanNeedsPrivilege();
  const period = req.period ?? 0;
  if (period > 0 && !privileged) throw tokenErrors.periodicNeedsPrivilege();
  const explicitMax = req.explicit_max_ttl ?? 0;

  const requested = sanitizePolicies(req.policies ?? []);
  let policies: string[];
  if (requested.length === 0) {
    policies = parent.policies;
  } else {
    // Sudo lifts the subset rule, but only a root token may hand out the root policy.
    if (requested.includes('root') && !isRoot(parent)) throw tokenErrors.rootNeedsRootParent();
    if (!isRoot(parent) && !privileged) {
      const allowed = new Set([...parent.policies, 'default']);
      if (!requested.every((p) => allowed.has(p))) throw tokenErrors.policiesNotSubset();
    }
    policies = requested;
  }
  if (req.no_default_policy) policies = policies.filter((p) => p !== 'default');
  else if (!policies.includes('root') && !policies.includes('default')) policies = [...policies, 'default'];
  policies = sanitizePolicies(policies);
  if (policies.length === 0) throw tokenErrors.noPolicies();
  if (batch && policies.includes('root')) throw tokenErrors.batchRoot();

  // TTL: periodic tokens live for one period; otherwise the requested TTL or the default,
  // capped by the explicit max and the system max. Root tokens without a TTL never expire.
  let ttl = req.ttl ?? 0;
  if (period > 0) ttl = period;
  else if (ttl === 0 && !policies.includes('root')) ttl = DEFAULT_TOKEN_TTL;
  if (ttl > 0 && period === 0 && ttl > MAX_TOKEN_TTL) {
    warnings.push(`TTL of "${goDuration(ttl)}" exceeded the effective max_ttl of "${goDuration(MAX_TOKEN_TTL)}"; TTL value is capped accordingly`);
    ttl = MAX_TOKEN_TTL;
  }
  if (explicitMax > 0 && (ttl === 0 || ttl > explicitMax)) {
    if (ttl > explicitMax) {
      warnings.push(`TTL of "${goDuration(ttl)}" exceeded the effective max_ttl of "${goDuration(explicitMax)}"; TTL value is capped accordingly`);
    }
    ttl = explicitMax;
  }
  const orphan = orphanPath || req.no_parent === true;
  if (!orphan && parent.expire_at > 0) {
    const parentLeft = Math.max(1, parent.expire_at - nowSeconds);
    if (ttl === 0 || ttl > parentLeft) ttl = parentLeft;
  }

  const displayName = req.display_name ? `token-${req.display_name}`.replace(/[^a-zA-Z0-9-]/g, '-').replace(/-+$/, '') : 'token';
  return {
    type: batch ? 'batch' : 'service',
    id: req.id || undefined,
    policies,
    orphan,
    ttl,
    explicit_max_ttl: explicitMax,
    period,
    num_uses: numUses,
    // Batch tokens are never renewable, whatever was asked.
    renewable: batch ? false : (req.renewable ?? true),
    display_name: displayName,
    meta: req.meta && Object.keys(req.meta).length > 0 ? req.meta : null,
    warnings,
  };
}

/**
 * Vault's token renewal: a periodic token gets another period; others get `increment`
 * (or their original TTL), capped so the token never lives past its explicit max TTL or
 * the system max counted from its creation, nor past its parent.
 * Returns the new expiry (unix seconds) and warnings.
 */
export function planRenewal(
  entry: TokenEntry,
  parent: TokenEntry | undefined,
  increment: number,
  nowSeconds: number,
  leaseTtls: LeaseTtls = VAULT_LEASE_TTLS,
): { expireAt: number; ttl: number; warnings: string[] } {
  if (entry.type === 'batch') throw tokenErrors.batchNotRenewable();
  const MAX_TOKEN_TTL = leaseTtls.maxTtl;
  if (entry.expire_at === 0) return { expireAt: 0, ttl: 0, warnings: [] };
  if (!entry.renewable) throw tokenErrors.notRenewable();
  const warnings: string[] = [];
  let ttl = entry.period > 0 ? entry.period : increment > 0 ? increment : entry.creation_ttl;
  const age = nowSeconds - entry.creation_time;
  const caps: number[] = [];
  if (entry.period === 0) caps.push((entry.max_ttl || MAX_TOKEN_TTL) - age);
  if (entry.explicit_max_ttl > 0) caps.push(entry.explicit_max_ttl - age);
  const maxLeft = caps.length > 0 ? Math.min(...caps) : Infinity;
  if (ttl > maxLeft) {
    warnings.push(
      `TTL of "${goDuration(ttl)}" exceeded the effective max_ttl of "${goDuration(Math.max(0, maxLeft))}"; TTL value is capped accordingly`,
    );
    ttl = Math.max(0, maxLeft);
  }
  if (parent && parent.expire_at > 0) ttl = Math.min(ttl, Math.max(0, parent.expire_at - nowSeconds));
  return { expireAt: nowSeconds + ttl, ttl, warnings };
}
