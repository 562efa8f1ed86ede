/**
 * The slice of IAM the emulator needs: OIDC identity providers and roles with their trust
 * conditions (for STS), users, managed policies, and the identity policies (inline and attached)
 * of users and roles, all registered through the admin API. Evaluation lives in iam-policy.ts.
 *
 * A user or role with no identity policy at all is *unrestricted*: its requests are allowed
 * without evaluation, as every credential was before the emulator enforced IAM. The first policy
 * put on or attached to it makes it subject to evaluation (implicit deny, explicit deny, allow).
 */
import { principalId } from './credentials.js';
import { globMatch, parsePolicyDocument, PolicyDocumentError, type NamedPolicy, type ParsedPolicy } from './iam-policy.js';

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

/** A policy document as registered (the object form) and its validated statements. */
export interface StoredPolicy {
  document: unknown;
  parsed: ParsedPolicy;
}

/** The identity policies of a user or role. */
export interface IdentityPolicies {
  /** Inline policies by name, in the order they were first put. */
  inline: Map<string, StoredPolicy>;
  /** ARNs of attached managed policies, in attachment order. */
  attached: string[];
}

export interface Role {
  accountId: string;
  roleName: string;
  path: string;
  arn: string;
  roleId: string;
  trust: RoleTrust;
  maxSessionDuration: number;
  policies: IdentityPolicies;
}

export interface User {
  accountId: string;
  userName: string;
  path: string;
  arn: string;
  userId: string;
  policies: IdentityPolicies;
}

/** A customer managed policy (`arn:aws:iam::<account>:policy/<path><name>`). */
export interface ManagedPolicy extends StoredPolicy {
  accountId: string;
  policyName: string;
  path: string;
  arn: string;
}

/** Identity policies given when a user or role is registered. */
export interface IdentityPolicyInput {
  /** Inline policies: name → document (a JSON string or an object). */
  inlinePolicies?: Record<string, unknown>;
  /** Managed policies (created first with createPolicy) to attach, by ARN. */
  attachedPolicyArns?: string[];
}

export interface RegisterRoleInput extends IdentityPolicyInput {
  accountId?: string;
  roleName: string;
  trust: RoleTrust;
  maxSessionDuration?: number;
}

export interface RegisterUserInput extends IdentityPolicyInput {
  accountId?: string;
  /** May carry a path, like role names: `svc/ferry-sync`. */
  userName: string;
  /**
   * Long-term keys of the user (`AKIA` + 16 upper-case letters/digits). With a secret the signature
   * is fully verified; without one only its shape is, as for unmapped keys.
   */
  accessKeys?: Array<{ accessKeyId: string; secretAccessKey?: string }>;
}

export interface CreatePolicyInput {
  accountId?: string;
  /** May carry a path: `sync/ferry-minimal`. */
  policyName: string;
  /** A JSON string or an object. */
  document: unknown;
}

/** What a principal holds, for assertions and the admin API. */
export interface PrincipalSnapshot {
  arn: string;
  kind: 'user' | 'role';
  accountId: string;
  /** No identity policy at all: every request is allowed without evaluation. */
  unrestricted: boolean;
  inlinePolicies: Record<string, unknown>;
  attachedPolicyArns: string[];
}

const PRINCIPAL_NAME = { pattern: /^[\w+=,.@-]{1,64}$/, rule: '1-64 characters of [\\w+=,.@-]' };
const POLICY_NAME = { pattern: /^[\w+=,.@-]{1,128}$/, rule: '1-128 characters of [\\w+=,.@-]' };
const ACCOUNT = /^\d{12}$/;

/** Splits `path/to/name` into IAM's path (`/path/to/`, or `/`) and name. */
function splitPath(qualified: string, what: string, naming: { pattern: RegExp; rule: string }): { path: string; name: string } {
  const slash = qualified.lastIndexOf('/');
  const name = slash < 0 ? qualified : qualified.slice(slash + 1);
  const path = slash < 0 ? '/' : `/${qualified.slice(0, slash + 1).replace(/^\//, '')}`;
  if (!naming.pattern.test(name)) throw new Error(`${what} must be ${naming.rule} (optionally after a path)`);
  return { path, name };
}

/** Parses a document, naming it in the error. */
function storePolicy(document: unknown, what: string): StoredPolicy {
  try {
    const parsed = parsePolicyDocument(document);
    return { document: typeof document === 'string' ? (JSON.parse(document) as unknown) : structuredClone(document), parsed };
  } catch (e) {
    if (e instanceof PolicyDocumentError) throw new PolicyDocumentError(`${what}: ${e.message.replace(/^MalformedPolicyDocument: /, '')}`);
    throw e;
  }
}

/** Glob match with `*` and `?` (IAM StringLike). */
export function stringLike(pattern: string, value: string): boolean {
  return globMatch(pattern, value);
}

export function conditionMatches(condition: string | string[] | undefined, value: string): boolean {
  if (condition === undefined) return true;
  const patterns = Array.isArray(condition) ? condition : [condition];
  return patterns.some((p) => (/[*?]/.test(p) ? stringLike(p, value) : p === value));
}

export class Iam {
  private readonly providers = new Map<string, OidcProvider>();
  private readonly roles = new Map<string, Role>();
  private readonly users = new Map<string, User>();
  private readonly managed = new Map<string, ManagedPolicy>();

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

  /** Registers (or replaces, with all its policies) a role. */
  registerRole(r: RegisterRoleInput): Role {
    const accountId = r.accountId ?? this.defaultAccountId;
    if (!ACCOUNT.test(accountId)) throw new Error('accountId must be 12 digits');
    const { path, name } = splitPath(r.roleName, 'roleName', PRINCIPAL_NAME);
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
      policies: this.initialPolicies(accountId, r),
    };
    this.roles.set(arn, role);
    return role;
  }

  /** Registers (or replaces, with all its policies) a user; its access keys are the caller's to map. */
  registerUser(u: RegisterUserInput): User {
    const accountId = u.accountId ?? this.defaultAccountId;
    if (!ACCOUNT.test(accountId)) throw new Error('accountId must be 12 digits');
    const { path, name } = splitPath(u.userName, 'userName', PRINCIPAL_NAME);
    const arn = `arn:aws:iam::${accountId}:user${path}${name}`;
    const user: User = {
      accountId,
      userName: name,
      path,
      arn,
      userId: principalId('AIDA', arn),
      policies: this.initialPolicies(accountId, u),
    };
    this.users.set(arn, user);
    return user;
  }

  /** Creates (or replaces the document of) a customer managed policy; attachments follow the new document. */
  createPolicy(p: CreatePolicyInput): ManagedPolicy {
    const accountId = p.accountId ?? this.defaultAccountId;
    if (!ACCOUNT.test(accountId)) throw new Error('accountId must be 12 digits');
    const { path, name } = splitPath(p.policyName, 'policyName', POLICY_NAME);
    const arn = `arn:aws:iam::${accountId}:policy${path}${name}`;
    const policy: ManagedPolicy = { accountId, policyName: name, path, arn, ...storePolicy(p.document, `policy ${arn}`) };
    this.managed.set(arn, policy);
    return policy;
  }

  /** Puts (adds or replaces) an inline policy on a user or role. */
  putInlinePolicy(principalArn: string, policyName: string, document: unknown): void {
    const holder = this.holder(principalArn);
    if (!POLICY_NAME.pattern.test(policyName)) throw new Error(`policyName must be ${POLICY_NAME.rule}`);
    holder.policies.inline.set(policyName, storePolicy(document, `inline policy ${policyName}`));
  }

  deleteInlinePolicy(principalArn: string, policyName: string): void {
    const holder = this.holder(principalArn);
    if (!holder.policies.inline.delete(policyName)) throw new Error(`${principalArn} has no inline policy ${policyName}`);
  }

  /** Attaches a managed policy of the principal's account (attaching it again is a no-op). */
  attachPolicy(principalArn: string, policyArn: string): void {
    const holder = this.holder(principalArn);
    this.checkAttachable(holder.accountId, policyArn);
    if (!holder.policies.attached.includes(policyArn)) holder.policies.attached.push(policyArn);
  }

  detachPolicy(principalArn: string, policyArn: string): void {
    const holder = this.holder(principalArn);
    const at = holder.policies.attached.indexOf(policyArn);
    if (at < 0) throw new Error(`${policyArn} is not attached to ${principalArn}`);
    holder.policies.attached.splice(at, 1);
  }

  /**
   * The policies that decide a request of the principal whose policies live on `holderArn` (a
   * user, or the role of a session): inline first, then attached. Empty = unrestricted.
   */
  identityPolicies(holderArn: string): NamedPolicy[] {
    const holder = this.users.get(holderArn) ?? this.roles.get(holderArn);
    if (holder === undefined) return [];
    return [
      ...[...holder.policies.inline].map(([name, p]) => ({ name, statements: p.parsed.statements })),
      ...holder.policies.attached.map((arn) => ({ name: arn, statements: this.managed.get(arn)!.parsed.statements })),
    ];
  }

  user(arn: string): User | undefined {
    return this.users.get(arn);
  }

  principal(arn: string): PrincipalSnapshot | undefined {
    const user = this.users.get(arn);
    const holder = user ?? this.roles.get(arn);
    if (holder === undefined) return undefined;
    return {
      arn,
      kind: user !== undefined ? 'user' : 'role',
      accountId: holder.accountId,
      unrestricted: holder.policies.inline.size === 0 && holder.policies.attached.length === 0,
      inlinePolicies: Object.fromEntries([...holder.policies.inline].map(([name, p]) => [name, structuredClone(p.document)])),
      attachedPolicyArns: [...holder.policies.attached],
    };
  }

  private holder(principalArn: string): User | Role {
    const holder = this.users.get(principalArn) ?? this.roles.get(principalArn);
    if (holder === undefined) throw new Error(`no registered user or role ${principalArn}`);
    return holder;
  }

  private checkAttachable(accountId: string, policyArn: string): void {
    const policy = this.managed.get(policyArn);
    if (policy === undefined) throw new Error(`no managed policy ${policyArn} (create it first)`);
    if (policy.accountId !== accountId) throw new Error(`${policyArn} belongs to another account`);
  }

  /** Validates every given policy before anything is stored, so a bad one registers nothing. */
  private initialPolicies(accountId: string, input: IdentityPolicyInput): IdentityPolicies {
    const inline = new Map<string, StoredPolicy>();
    for (const [name, document] of Object.entries(input.inlinePolicies ?? {})) {
      if (!POLICY_NAME.pattern.test(name)) throw new Error(`inline policy name must be ${POLICY_NAME.rule}`);
      inline.set(name, storePolicy(document, `inline policy ${name}`));
    }
    const attached: string[] = [];
    for (const arn of input.attachedPolicyArns ?? []) {
      this.checkAttachable(accountId, arn);
      if (!attached.includes(arn)) attached.push(arn);
    }
    return { inline, attached };
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
