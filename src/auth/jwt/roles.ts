import { param } from '../../kernel/request.js';
import type { MountStorage } from '../login/mount-storage.js';
import { applyTokenFields, DEFAULT_TOKEN_SETTINGS, type TokenFieldInput, type TokenSettings } from '../login/token-fields.js';
import { jwtErrors } from './errors.js';

/** A JWT role as stored under `role/<name>`. */
export interface StoredJwtRole {
  role_type: 'jwt' | 'oidc';
  bound_audiences: string[];
  bound_subject: string;
  bound_claims: Record<string, unknown> | null;
  bound_claims_type: 'string' | 'glob';
  user_claim: string;
  user_claim_json_pointer: boolean;
  groups_claim: string;
  claim_mappings: Record<string, string> | null;
  /** Seconds; 0 = the default (60 s), -1 = none. */
  clock_skew_leeway: number;
  /** Seconds; 0 = the default (150 s), -1 = none. */
  expiration_leeway: number;
  /** Seconds; 0 = the default (150 s), -1 = none. */
  not_before_leeway: number;
  allowed_redirect_uris: string[];
  oidc_scopes: string[];
  verbose_oidc_logging: boolean;
  max_age: number;
  settings: TokenSettings;
}

export type JwtRoleInput = Partial<Omit<StoredJwtRole, 'settings' | 'role_type' | 'bound_claims_type'>> & {
  role_type?: string;
  bound_claims_type?: string;
  token: TokenFieldInput;
};

/** Vault's role names (GenericNameRegex), lower-cased. */
export const jwtRoleNameParam = () =>
  param
    .segment()
    .regex(/^\w(?:[\w.-]*\w)?$/)
    .transform((name) => name.toLowerCase());

/** The legacy spellings of the token fields a JWT role accepts. */
export const JWT_ROLE_LEGACY_FIELDS = {
  policies: 'token_policies',
  num_uses: 'token_num_uses',
  ttl: 'token_ttl',
  max_ttl: 'token_max_ttl',
  period: 'token_period',
  bound_cidrs: 'token_bound_cidrs',
} as const;

function checkBoundClaims(bound: Record<string, unknown>, type: 'string' | 'glob'): void {
  for (const value of Object.values(bound)) {
    const values = Array.isArray(value) ? value : [value];
    if (values.some((v) => v === null || typeof v === 'object')) throw jwtErrors.boundClaimNotList(JSON.stringify(value));
    if (type === 'glob' && values.some((v) => typeof v !== 'string')) throw jwtErrors.boundClaimNotString(JSON.stringify(value));
  }
}

function checkMappings(mappings: Record<string, string>): void {
  const seen = new Set<string>();
  for (const key of Object.values(mappings)) {
    if (key === 'role') throw jwtErrors.reservedMetadataKey(key);
    if (seen.has(key)) throw jwtErrors.duplicateMetadataKey(key);
    seen.add(key);
  }
}

/** Vault's rules for a role write over `current` (undefined: a new role, which gets the defaults). */
export function planJwtRole(current: StoredJwtRole | undefined, input: JwtRoleInput): { role: StoredJwtRole; warnings: string[] } {
  const { settings, warnings } = applyTokenFields(current?.settings ?? DEFAULT_TOKEN_SETTINGS, input.token);
  const roleType = input.role_type ?? current?.role_type ?? 'oidc';
  if (roleType !== 'jwt' && roleType !== 'oidc') throw jwtErrors.badRoleType(roleType);
  const boundClaimsType = input.bound_claims_type ?? current?.bound_claims_type ?? 'string';
  if (boundClaimsType !== 'string' && boundClaimsType !== 'glob') throw jwtErrors.badBoundClaimsType(boundClaimsType);
  const role: StoredJwtRole = {
    role_type: roleType,
    bound_audiences: input.bound_audiences ?? current?.bound_audiences ?? [],
    bound_subject: input.bound_subject ?? current?.bound_subject ?? '',
    bound_claims: input.bound_claims ?? current?.bound_claims ?? null,
    bound_claims_type: boundClaimsType,
    user_claim: input.user_claim ?? current?.user_claim ?? '',
    user_claim_json_pointer: input.user_claim_json_pointer ?? current?.user_claim_json_pointer ?? false,
    groups_claim: input.groups_claim ?? current?.groups_claim ?? '',
    claim_mappings: input.claim_mappings ?? current?.claim_mappings ?? null,
    clock_skew_leeway: input.clock_skew_leeway ?? current?.clock_skew_leeway ?? 60,
    expiration_leeway: input.expiration_leeway ?? current?.expiration_leeway ?? 150,
    not_before_leeway: input.not_before_leeway ?? current?.not_before_leeway ?? 150,
    allowed_redirect_uris: input.allowed_redirect_uris ?? current?.allowed_redirect_uris ?? [],
    oidc_scopes: input.oidc_scopes ?? current?.oidc_scopes ?? [],
    verbose_oidc_logging: input.verbose_oidc_logging ?? current?.verbose_oidc_logging ?? false,
    max_age: input.max_age ?? current?.max_age ?? 0,
    settings,
  };
  if (role.bound_claims) checkBoundClaims(role.bound_claims, role.bound_claims_type);
  if (role.user_claim === '') throw jwtErrors.userClaimRequired();
  if (role.claim_mappings) checkMappings(role.claim_mappings);
  if (role.role_type === 'oidc' && role.allowed_redirect_uris.length === 0) throw jwtErrors.redirectUrisRequired();
  const bound =
    role.bound_audiences.length > 0 ||
    role.bound_subject !== '' ||
    (role.bound_claims !== null && Object.keys(role.bound_claims).length > 0) ||
    settings.token_bound_cidrs.length > 0;
  if (role.role_type === 'jwt' && !bound) throw jwtErrors.noBoundConstraint();
  if (role.verbose_oidc_logging) {
    warnings.push('verbose_oidc_logging has been enabled for this role. This setting should only be enabled for debugging');
  }
  return { role, warnings };
}

/** A leeway as the validator uses it: 0 means the default, a negative value none. */
export const effectiveLeeway = (value: number, fallback: number): number => (value < 0 ? 0 : value === 0 ? fallback : value);

export async function readJwtRole(storage: MountStorage, name: string): Promise<StoredJwtRole | undefined> {
  return (await storage.getJson<StoredJwtRole>(`role/${name}`))?.value;
}

/** A role as `role/:name` reads it (without the token fields, which the caller adds). */
export function jwtRoleView(role: StoredJwtRole): Record<string, unknown> {
  const { settings: _settings, ...fields } = role;
  return fields;
}
