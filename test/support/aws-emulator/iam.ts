/**
 * The slice of IAM the emulated STS needs: OIDC identity providers and roles with their trust
 * conditions, registered through the admin API.
 */
import { principalId } from './credentials.js';

export interface OidcProvider {
  accountId: string;
  /** Issuer URL exactly as registered (compared byte for byte with the token's `iss`). */
  url: string;
  clientIds: string[];
  /** `arn:aws:iam::<account>:oidc-provider/<url without scheme>` */
  arn: string;
  /** The URL without its scheme, as IAM condition keys and trust policies name the provider. */
  name: string;
}

/** A role's trust policy, reduced to the conditions this emulator evaluates. */
export interface RoleTrust {
  /** Web identity: the provider (issuer URL without scheme, as IAM writes it, or its ARN). */
  provider?: string;
  /** `<provider>:sub` — StringEquals, or StringLike when it contains `*` or `?`; a list means any of. */
  sub?: string | string[];
  /** `<provider>:aud` (same matching as `sub`). */
  aud?: string;
  /** AssumeRole: `sts:ExternalId` must equal this. */
  externalId?: string;
  /** AssumeRole: the account whose principals may assume the role (default: the role's own account when the role has no `provider`). */
  principalAccount?: string;
}

export interface Role {
  accountId: string;
  roleName: string;
  path: string;
  arn: string;
  roleId: string;
  trust: RoleTrust;
  maxSessionDuration: number;
}

export interface RegisterRoleInput {
  accountId?: string;
  roleName: string;
  trust: RoleTrust;
  maxSessionDuration?: number;
}

const ROLE_NAME = /^[\w+=,.@-]{1,64}$/;

/** Glob match with `*` and `?` (IAM StringLike). */
export function stringLike(pattern: string, value: string): boolean {
  const re = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${re}$`, 's').test(value);
}

export function conditionMatches(condition: string | string[] | undefined, value: string): boolean {
  if (condition === undefined) return true;
  const patterns = Array.isArray(condition) ? condition : [condition];
  return patterns.some((p) => (/[*?]/.test(p) ? stringLike(p, value) : p === value));
}

export class Iam {
  private readonly providers = new Map<string, OidcProvider>();
  private readonly roles = new Map<string, Role>();

  constructor(
    private readonly defaultAccountId: string,
    private readonly requireHttpsIssuer: boolean,
  ) {}

  /** Registers (or replaces) an OIDC provider; IAM requires `https://` unless the emulator is relaxed. */
  registerOidcProvider(p: { accountId?: string; url: string; clientIds: string[] }): OidcProvider {
    const accountId = p.accountId ?? this.defaultAccountId;
    if (!/^\d{12}$/.test(accountId)) throw new Error('accountId must be 12 digits');
    const scheme = /^(https?):\/\//.exec(p.url)?.[1];
    if (scheme === undefined) throw new Error('provider url must begin with https:// (or http:// when requireHttpsIssuer is off)');
    if (scheme === 'http' && this.requireHttpsIssuer) throw new Error('provider url must begin with https:// (requireHttpsIssuer is on)');
    if (p.url.includes('?') || p.url.includes('#')) throw new Error('provider url must not have a query or fragment');
    if (!Array.isArray(p.clientIds) || p.clientIds.length < 1 || p.clientIds.length > 100) {
      throw new Error('clientIds must hold 1 to 100 audiences');
    }
    if (p.clientIds.some((c) => typeof c !== 'string' || c.length < 1 || c.length > 255)) {
      throw new Error('each client id must be 1 to 255 characters');
    }
    const name = p.url.replace(/^https?:\/\//, '');
    const provider: OidcProvider = {
      accountId,
      url: p.url,
      clientIds: [...p.clientIds],
      arn: `arn:aws:iam::${accountId}:oidc-provider/${name}`,
      name,
    };
    this.providers.set(`${accountId}|${p.url}`, provider);
    return provider;
  }

  /** The provider of `accountId` whose URL is exactly `iss` (scheme, host, path, trailing slash, case). */
  providerFor(accountId: string, iss: string): OidcProvider | undefined {
    return this.providers.get(`${accountId}|${iss}`);
  }

  registerRole(r: RegisterRoleInput): Role {
    const accountId = r.accountId ?? this.defaultAccountId;
    if (!/^\d{12}$/.test(accountId)) throw new Error('accountId must be 12 digits');
    const slash = r.roleName.lastIndexOf('/');
    const name = slash < 0 ? r.roleName : r.roleName.slice(slash + 1);
    const path = slash < 0 ? '/' : `/${r.roleName.slice(0, slash + 1).replace(/^\//, '')}`;
    if (!ROLE_NAME.test(name)) throw new Error('roleName must be 1-64 characters of [\\w+=,.@-] (optionally after a path)');
    const maxSessionDuration = r.maxSessionDuration ?? 3600;
    if (!Number.isInteger(maxSessionDuration) || maxSessionDuration < 3600 || maxSessionDuration > 43_200) {
      throw new Error('maxSessionDuration must be an integer from 3600 to 43200');
    }
    if (r.trust === null || typeof r.trust !== 'object') throw new Error('trust is required');
    const arn = `arn:aws:iam::${accountId}:role${path}${name}`;
    const role: Role = {
      accountId,
      roleName: name,
      path,
      arn,
      roleId: principalId('AROA', arn),
      trust: { ...r.trust },
      maxSessionDuration,
    };
    this.roles.set(arn, role);
    return role;
  }

  role(arn: string): Role | undefined {
    return this.roles.get(arn);
  }

  /** Does the role's trust name this provider as its federated principal? */
  trustsProvider(role: Role, provider: OidcProvider): boolean {
    const p = role.trust.provider;
    return p !== undefined && (p === provider.name || p === provider.arn);
  }
}
