import type { Authorizer } from '../kernel/services.js';
import type { Capability, TokenEntry } from '../kernel/entries.js';
import type { PathRule } from './policy.js';
import type { PolicyStore } from './policy-store.js';

const ALL: Capability[] = ['create', 'read', 'update', 'patch', 'delete', 'list', 'sudo'];

/** A non-exact rule: a trailing `*` glob, `+` segment wildcards, or both. */
interface PatternRule {
  path: string;
  /** Segments of the path without its trailing `*`. */
  segments: string[];
  glob: boolean;
  /** The literal prefix, for glob rules without `+` (a fast `startsWith`). */
  prefix: string | undefined;
  /** Index of the first `+` or `*` in the path (Vault's first priority rule). */
  firstWildcard: number;
  plusCount: number;
  capabilities: Set<Capability>;
}

function merge(into: Set<Capability>, from: Set<Capability>): Set<Capability> {
  if (into.has('deny') || from.has('deny')) return new Set<Capability>(['deny']);
  for (const c of from) into.add(c);
  return into;
}

function toPattern(path: string, capabilities: Set<Capability>): PatternRule {
  const glob = path.endsWith('*');
  const body = glob ? path.slice(0, -1) : path;
  const segments = body.split('/');
  const plusCount = segments.filter((s) => s === '+').length;
  const plusAt = segments.findIndex((s) => s === '+');
  const firstPlus = plusAt === -1 ? -1 : segments.slice(0, plusAt).join('/').length + (plusAt > 0 ? 1 : 0);
  const firstWildcard = firstPlus !== -1 ? firstPlus : glob ? body.length : path.length;
  return { path, segments, glob, prefix: glob && plusCount === 0 ? body : undefined, firstWildcard, plusCount, capabilities };
}

function patternMatches(rule: PatternRule, path: string): boolean {
  if (rule.prefix !== undefined) return path.startsWith(rule.prefix);
  const parts = path.split('/');
  const segs = rule.segments;
  if (rule.glob ? parts.length < segs.length : parts.length !== segs.length) return false;
  for (let i = 0; i < segs.length; i++) {
    const s = segs[i]!;
    const p = parts[i]!;
    if (s === '+') {
      if (p === '') return false;
    } else if (rule.glob && i === segs.length - 1) {
      if (!p.startsWith(s)) return false;
    } else if (s !== p) return false;
  }
  return true;
}

/**
 * Vault's documented priority between two matching non-exact rules: is `a` lower than `b`?
 * 1. the first `+` or `*` comes earlier; 2. it ends in `*` and the other does not;
 * 3. more `+` segments; 4. shorter; 5. lexicographically smaller.
 */
function lowerPriority(a: PatternRule, b: PatternRule): boolean {
  if (a.firstWildcard !== b.firstWildcard) return a.firstWildcard < b.firstWildcard;
  if (a.glob !== b.glob) return a.glob;
  if (a.plusCount !== b.plusCount) return a.plusCount > b.plusCount;
  if (a.path.length !== b.path.length) return a.path.length < b.path.length;
  return a.path < b.path;
}

/** Whether some path under `mount` (e.g. `my-kv/`) can match the rule. */
function reachesUnder(rule: PatternRule, mount: string): boolean {
  if (rule.prefix !== undefined) return rule.prefix.startsWith(mount) || mount.startsWith(rule.prefix);
  const m = mount.replace(/\/$/, '').split('/');
  const segs = rule.segments;
  for (let i = 0; i < m.length; i++) {
    if (i >= segs.length) return false;
    const s = segs[i]!;
    if (rule.glob && i === segs.length - 1) return s === '+' || m[i]!.startsWith(s);
    if (s !== '+' && s !== m[i]) return false;
  }
  return true;
}

/**
 * The compiled ACL of one set of policies. Rules for the same path are merged (a `deny`
 * anywhere wins on that path); an exact rule beats every pattern; otherwise the single
 * highest-priority matching pattern decides, as in Vault — so a more specific allow
 * beats a broader deny, and a deny on the winning path overrides everything.
 */
export class Acl {
  private readonly exact = new Map<string, Set<Capability>>();
  private readonly patterns: PatternRule[] = [];

  constructor(rules: PathRule[]) {
    const patterns = new Map<string, Set<Capability>>();
    for (const r of rules) {
      const target = r.path.endsWith('*') || r.path.split('/').includes('+') ? patterns : this.exact;
      target.set(r.path, merge(target.get(r.path) ?? new Set(), r.capabilities));
    }
    for (const [path, caps] of patterns) this.patterns.push(toPattern(path, caps));
  }

  capabilities(path: string): Set<Capability> {
    const exact = this.exact.get(path) ?? (path.endsWith('/') ? this.exact.get(path.slice(0, -1)) : undefined);
    if (exact) return exact;
    let best: PatternRule | undefined;
    for (const rule of this.patterns) {
      if (patternMatches(rule, path) && (!best || lowerPriority(best, rule))) best = rule;
    }
    return best?.capabilities ?? new Set();
  }

  /** Some non-deny capability on some rule that can match the mount or a path under it. */
  hasAnyUnder(mountPath: string): boolean {
    const grants = (caps: Set<Capability>) => caps.size > 0 && !caps.has('deny');
    const base = mountPath.replace(/\/$/, '');
    for (const [path, caps] of this.exact) {
      if (grants(caps) && (path === base || path.startsWith(mountPath))) return true;
    }
    return this.patterns.some((r) => grants(r.capabilities) && reachesUnder(r, mountPath));
  }
}

/**
 * The real authorizer: the root policy may do everything; any other token gets the ACL
 * compiled from its policies. Compiled ACLs are cached per policy set and dropped when
 * any policy changes (the store's generation moves).
 */
export class AclAuthorizer implements Authorizer {
  private compiled = new Map<string, Acl>();
  /**
   * The same compiled ACLs by a token entry's policy-name array (`currentFor`); replaced when
   * a policy changes, as `compiled` is cleared.
   */
  private byNames = new WeakMap<readonly string[], Acl>();
  private generation = -1;

  constructor(private readonly policies: PolicyStore) {}

  async aclFor(policyNames: string[]): Promise<Acl> {
    if (this.generation !== this.policies.generation) {
      this.compiled.clear();
      this.byNames = new WeakMap();
      this.generation = this.policies.generation;
    }
    const key = policyNames.join('\u0000');
    const hit = this.compiled.get(key);
    if (hit) return hit;
    const generation = this.policies.generation;
    const rules: PathRule[] = [];
    for (const name of policyNames) {
      // Policies a token names but that do not exist grant nothing, as in Vault.
      const p = await this.policies.get(name);
      if (p) rules.push(...p.rules);
    }
    const acl = new Acl(rules);
    if (generation === this.policies.generation) this.compiled.set(key, acl);
    return acl;
  }

  async capabilities(token: TokenEntry, path: string): Promise<Set<Capability>> {
    // Not through capabilitiesOfPolicies: every request asks, and each async layer costs a turn.
    return this.cachedCapabilities(token, path) ?? (await this.aclFor(token.policies)).capabilities(path);
  }

  cachedCapabilities(token: TokenEntry, path: string): Set<Capability> | undefined {
    if (token.policies.includes('root')) return new Set(ALL);
    return this.currentFor(token)?.capabilities(path);
  }

  async capabilitiesOfPolicies(policyNames: string[], path: string): Promise<Set<Capability>> {
    if (policyNames.includes('root')) return new Set(ALL);
    return (this.current(policyNames) ?? (await this.aclFor(policyNames))).capabilities(path);
  }

  /** The compiled ACL of a policy set if it is cached and no policy changed since (no await: every request asks). */
  private current(policyNames: string[]): Acl | undefined {
    return this.generation === this.policies.generation ? this.compiled.get(policyNames.join('\u0000')) : undefined;
  }

  /**
   * `current` for a token's policies, found by the array itself: a token entry is frozen and
   * never changes (`TokenStore`), and a cached one hands every request the same array, so its
   * names need not be joined into a key each time.
   */
  private currentFor(token: TokenEntry): Acl | undefined {
    if (this.generation !== this.policies.generation) return undefined;
    let acl = this.byNames.get(token.policies);
    if (!acl) {
      acl = this.compiled.get(token.policies.join('\u0000'));
      if (acl) this.byNames.set(token.policies, acl);
    }
    return acl;
  }

  async hasAnyUnder(token: TokenEntry, mountPath: string): Promise<boolean> {
    if (token.policies.includes('root')) return true;
    return (await this.aclFor(token.policies)).hasAnyUnder(mountPath);
  }
}
