import type { Capability } from '../kernel/entries.js';
import { HclSyntaxError, parseHcl } from '../kernel/hcl.js';
import { policyErrors } from './errors.js';

/** One `path "…" { capabilities = […] }` rule. */
export interface PathRule {
  /** As written, without a leading slash: `my-kv/data/*`, `secret/+/config`. */
  path: string;
  capabilities: Set<Capability>;
}

/** A parsed ACL policy: its name, the text it was written in, and its rules. */
export interface Policy {
  name: string;
  raw: string;
  rules: PathRule[];
}

export const CAPABILITIES: readonly Capability[] = ['create', 'read', 'update', 'patch', 'delete', 'list', 'sudo', 'deny'];

/** The pre-0.5 `policy = "read"` shorthand, as Vault still accepts it. */
const LEGACY: Record<string, Capability[]> = {
  deny: ['deny'],
  read: ['read', 'list'],
  write: ['create', 'read', 'update', 'patch', 'delete', 'list'],
  sudo: ['create', 'read', 'update', 'patch', 'delete', 'list', 'sudo'],
};

/**
 * Rule keys Ferry does not enforce. Accepting and ignoring them would grant more than
 * the author meant (parameter constraints) or skip a required control (wrapping, MFA),
 * so a policy using them is refused with a message saying so.
 */
const UNSUPPORTED_RULE_KEYS = [
  'allowed_parameters',
  'denied_parameters',
  'required_parameters',
  'min_wrapping_ttl',
  'max_wrapping_ttl',
  'mfa_methods',
  'control_group',
];

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Parses a policy in HCL or JSON (Vault accepts both; JSON is recognised by its leading
 * `{`). Syntax errors become a 400 whose message names the line.
 */
export function parsePolicy(name: string, text: string): Policy {
  let doc: unknown;
  const trimmed = text.trimStart();
  if (trimmed.startsWith('{')) {
    try {
      doc = JSON.parse(text);
    } catch (err) {
      throw policyErrors.parse(`invalid JSON: ${(err as Error).message}`);
    }
  } else {
    try {
      doc = parseHcl(text);
    } catch (err) {
      if (err instanceof HclSyntaxError) throw policyErrors.parse(err.message);
      throw err;
    }
  }
  if (!isObject(doc)) throw policyErrors.parse('a policy must be an object');
  for (const key of Object.keys(doc)) {
    if (key !== 'path' && key !== 'name') throw policyErrors.parse(`invalid key "${key}"`);
  }
  const rules: PathRule[] = [];
  const paths = doc.path;
  if (paths !== undefined) {
    // JSON policies may also write `"path": [{"a": {...}}, …]`.
    const groups = Array.isArray(paths) ? paths : [paths];
    for (const group of groups) {
      if (!isObject(group)) throw policyErrors.parse('"path" must be a block per path: path "<path>" { … }');
      for (const [path, bodies] of Object.entries(group)) {
        for (const body of Array.isArray(bodies) ? bodies : [bodies]) rules.push(parseRule(path, body));
      }
    }
  }
  return { name, raw: text, rules };
}

function parseRule(rawPath: string, body: unknown): PathRule {
  const path = rawPath.replace(/^\/+/, '');
  if (!isObject(body)) throw policyErrors.parse(`path "${rawPath}": expected a block`);
  const caps = new Set<Capability>();
  for (const [key, value] of Object.entries(body)) {
    if (key === 'capabilities') {
      if (!Array.isArray(value) || !value.every((c) => typeof c === 'string')) {
        throw policyErrors.parse(`path "${rawPath}": capabilities must be a list of strings`);
      }
      for (const c of value as string[]) {
        const cap = c.trim().toLowerCase() as Capability;
        if (!CAPABILITIES.includes(cap)) throw policyErrors.parse(`path "${rawPath}": invalid capability "${c}"`);
        caps.add(cap);
      }
    } else if (key === 'policy') {
      const legacy = typeof value === 'string' ? LEGACY[value.trim().toLowerCase()] : undefined;
      if (!legacy) throw policyErrors.parse(`path "${rawPath}": invalid policy "${String(value)}"`);
      legacy.forEach((c) => caps.add(c));
    } else if (UNSUPPORTED_RULE_KEYS.includes(key)) {
      throw policyErrors.parse(`path "${rawPath}": "${key}" is not supported by Ferry; remove it or express the rule with capabilities`);
    } else {
      throw policyErrors.parse(`path "${rawPath}": invalid key "${key}"`);
    }
  }
  // `deny` overrides everything else on the same path.
  return { path, capabilities: caps.has('deny') ? new Set<Capability>(['deny']) : caps };
}

/**
 * The `default` policy, created at initialisation. Like Vault's, it lets every token look
 * after itself (lookup, renew, revoke, its own capabilities) and may be edited but not deleted.
 */
export const DEFAULT_POLICY = `# Allow tokens to look up their own properties
path "auth/token/lookup-self" {
  capabilities = ["read"]
}

# Allow tokens to renew themselves
path "auth/token/renew-self" {
  capabilities = ["update"]
}

# Allow tokens to revoke themselves
path "auth/token/revoke-self" {
  capabilities = ["update"]
}

# Allow a token to look up its own capabilities on a path
path "sys/capabilities-self" {
  capabilities = ["update"]
}

# Allow a token to look up its resultant ACL from all policies (UI)
path "sys/internal/ui/resultant-acl" {
  capabilities = ["read"]
}

# Allow a token to renew and look up leases it holds
path "sys/renew" {
  capabilities = ["update"]
}
path "sys/leases/renew" {
  capabilities = ["update"]
}
path "sys/leases/lookup" {
  capabilities = ["update"]
}

# Allow a token to manage its own cubbyhole
path "cubbyhole/*" {
  capabilities = ["create", "read", "update", "delete", "list"]
}

# Allow a token to wrap arbitrary values in a response-wrapping token
path "sys/wrapping/wrap" {
  capabilities = ["update"]
}
path "sys/wrapping/lookup" {
  capabilities = ["update"]
}
path "sys/wrapping/unwrap" {
  capabilities = ["update"]
}

# Allow general purpose tools
path "sys/tools/hash" {
  capabilities = ["update"]
}
path "sys/tools/hash/*" {
  capabilities = ["update"]
}
`;
