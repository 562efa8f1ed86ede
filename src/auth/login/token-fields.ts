import { z } from 'zod';
import { invalidCidr } from '../../kernel/cidr.js';
import { vBool, vDuration, vInt, vString, vStrings } from '../../kernel/fields.js';
import { sanitizePolicies } from '../token/rules.js';
import { loginErrors } from './errors.js';

/**
 * The `token_*` fields every auth method's roles and users carry (Vault's sdk/helper/tokenutil):
 * what a login's token gets. Stored as decided here, read back with `tokenFieldsView`.
 */
export interface TokenSettings {
  token_policies: string[];
  /** Seconds; 0 = the mount's default lease TTL. */
  token_ttl: number;
  /** Seconds; 0 = the mount's max lease TTL. */
  token_max_ttl: number;
  token_explicit_max_ttl: number;
  token_period: number;
  /** 0 = unlimited. */
  token_num_uses: number;
  token_no_default_policy: boolean;
  token_bound_cidrs: string[];
  /** `default` when unset (Vault's TokenTypeDefault): the mount's token type decides. */
  token_type: 'default' | 'service' | 'batch';
}

export const DEFAULT_TOKEN_SETTINGS: TokenSettings = {
  token_policies: [],
  token_ttl: 0,
  token_max_ttl: 0,
  token_explicit_max_ttl: 0,
  token_period: 0,
  token_num_uses: 0,
  token_no_default_policy: false,
  token_bound_cidrs: [],
  token_type: 'default',
};

/** The request fields, with Vault's weak typing; durations may be negative so the rules below can word the refusal. */
export const tokenFieldShape = {
  token_policies: vStrings(),
  token_ttl: vDuration({ allowNegative: true }),
  token_max_ttl: vDuration({ allowNegative: true }),
  token_explicit_max_ttl: vDuration({ allowNegative: true }),
  token_period: vDuration({ allowNegative: true }),
  token_num_uses: vInt(),
  token_no_default_policy: vBool(),
  token_bound_cidrs: vStrings(),
  token_type: vString(),
};

export type TokenFieldInput = { [K in keyof typeof tokenFieldShape]?: z.output<(typeof tokenFieldShape)[K]> };

/** The read-back schema (the response allow-list's part for token fields). */
export const tokenFieldsResponse = {
  token_policies: z.array(z.string()),
  token_ttl: z.number().int(),
  token_max_ttl: z.number().int(),
  token_explicit_max_ttl: z.number().int(),
  token_period: z.number().int(),
  token_num_uses: z.number().int(),
  token_no_default_policy: z.boolean(),
  token_bound_cidrs: z.array(z.string()),
  token_type: z.string(),
};

/**
 * Applies the given token fields over `current` (an update changes only what it names) with
 * tokenutil's rules and messages. `default-service` and `default-batch` mean nothing on a
 * role: as Vault's plugins do, they become `service` / `batch` with a warning. A batch role
 * may have neither a period nor a use limit (batch tokens are not renewed and count no uses).
 */
export function applyTokenFields(current: TokenSettings, input: TokenFieldInput): { settings: TokenSettings; warnings: string[] } {
  const warnings: string[] = [];
  const next: TokenSettings = { ...current };
  if (input.token_policies !== undefined) next.token_policies = sanitizePolicies(input.token_policies);
  for (const field of ['token_ttl', 'token_max_ttl', 'token_explicit_max_ttl', 'token_period', 'token_num_uses'] as const) {
    const value = input[field];
    if (value === undefined) continue;
    if (value < 0) throw loginErrors.negative(field);
    next[field] = value;
  }
  if (input.token_no_default_policy !== undefined) next.token_no_default_policy = input.token_no_default_policy;
  if (input.token_bound_cidrs !== undefined) {
    const bad = invalidCidr(input.token_bound_cidrs);
    if (bad !== undefined) throw loginErrors.invalidAddress(bad);
    next.token_bound_cidrs = input.token_bound_cidrs;
  }
  if (input.token_type !== undefined) {
    let type = input.token_type;
    if (type === 'default-service' || type === 'default-batch') {
      const adjusted = type.slice('default-'.length);
      warnings.push(`${type} has no useful meaning; adjusting to ${adjusted}`);
      type = adjusted;
    }
    if (type === '' || type === 'default') next.token_type = 'default';
    else if (type === 'service' || type === 'batch') next.token_type = type;
    else throw loginErrors.invalidTokenType(input.token_type);
  }
  if (next.token_type === 'batch') checkBatch(next);
  if (next.token_max_ttl > 0 && next.token_ttl > next.token_max_ttl) throw loginErrors.ttlAboveMax();
  return { settings: next, warnings };
}

/** What a batch token cannot be: periodic, or limited in uses. */
export function checkBatch(settings: Pick<TokenSettings, 'token_period' | 'token_num_uses'>): void {
  if (settings.token_period > 0) throw loginErrors.batchPeriodic();
  if (settings.token_num_uses > 0) throw loginErrors.batchLimitedUses();
}

/**
 * Vault's deprecated spellings of the token fields (`policies`, `ttl`, …): used when the
 * `token_` field is not given; the new name wins when both are.
 */
export function upgradeLegacyFields<T extends Record<string, unknown>>(data: T, legacy: Record<string, keyof TokenFieldInput>): TokenFieldInput {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(tokenFieldShape)) if (data[key] !== undefined) out[key] = data[key];
  for (const [old, replacement] of Object.entries(legacy)) {
    if (data[old] !== undefined && out[replacement] === undefined) out[replacement] = data[old];
  }
  return out as TokenFieldInput;
}

/** The token fields as a role or user read reports them: seconds as integers, lists never null. */
export function tokenFieldsView(settings: TokenSettings): Record<string, unknown> {
  return {
    token_bound_cidrs: settings.token_bound_cidrs,
    token_explicit_max_ttl: settings.token_explicit_max_ttl,
    token_max_ttl: settings.token_max_ttl,
    token_no_default_policy: settings.token_no_default_policy,
    token_num_uses: settings.token_num_uses,
    token_period: settings.token_period,
    token_policies: settings.token_policies,
    token_ttl: settings.token_ttl,
    token_type: settings.token_type,
  };
}
