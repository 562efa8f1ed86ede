import { jwtErrors } from './errors.js';

export type Claims = Record<string, unknown>;

/**
 * A claim by name, or by JSON pointer (RFC 6901) when the name starts with `/`
 * (`/nested/key`, `/groups/0`), as Vault's JWT method reads claims.
 */
export function getClaim(claims: Claims, name: string): unknown {
  if (!name.startsWith('/')) return Object.hasOwn(claims, name) ? claims[name] : undefined;
  let value: unknown = claims;
  for (const raw of name.slice(1).split('/')) {
    const token = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(value) && /^(0|[1-9]\d*)$/.test(token)) value = value[Number(token)];
    else if (value !== null && typeof value === 'object' && !Array.isArray(value) && Object.hasOwn(value, token)) {
      value = (value as Record<string, unknown>)[token];
    } else return undefined;
  }
  return value;
}

/** Vault's bound-claim globs: `*` matches any run of characters (none included); nothing else is special. */
export function globMatch(pattern: string, value: string): boolean {
  const parts = pattern.split('*');
  if (parts.length === 1) return pattern === value;
  const first = parts[0]!;
  const last = parts[parts.length - 1]!;
  if (!value.startsWith(first) || value.length < first.length + last.length || !value.endsWith(last)) return false;
  let at = first.length;
  const end = value.length - last.length;
  for (const middle of parts.slice(1, -1)) {
    const found = value.indexOf(middle, at);
    if (found === -1 || found + middle.length > end) return false;
    at = found + middle.length;
  }
  return true;
}

const show = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v));

/**
 * Checks a role's `bound_claims`: every listed claim must be present and match one of its
 * values (a claim that is a list matches when any element does; a string or boolean claim is
 * a list of one), exactly (`string`) or as a glob (`glob`).
 */
export function checkBoundClaims(claims: Claims, bound: Record<string, unknown>, type: 'string' | 'glob'): void {
  for (const [name, expected] of Object.entries(bound)) {
    const actual = getClaim(claims, name);
    if (actual === undefined || actual === null) throw jwtErrors.invalidClaims(`claim ${JSON.stringify(name)} is missing`);
    let actualValues: unknown[];
    if (Array.isArray(actual)) actualValues = actual;
    else if (typeof actual === 'string' || typeof actual === 'boolean') actualValues = [actual];
    else throw jwtErrors.invalidClaims(`received claim is not a string or list: ${show(actual)}`);
    const expectedValues = Array.isArray(expected) ? expected : [expected];
    const matches = expectedValues.some((e) =>
      actualValues.some((a) => (type === 'glob' ? typeof a === 'string' && typeof e === 'string' && globMatch(e, a) : a === e)),
    );
    if (!matches) throw jwtErrors.invalidClaims(`claim ${JSON.stringify(name)} does not match any associated bound claim values`);
  }
}

/** A claim's value as a string for the token's metadata or display name: strings, numbers and booleans convert. */
function asString(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if ((typeof value === 'number' && Number.isFinite(value)) || typeof value === 'boolean') return String(value);
  return undefined;
}

/** The role's `user_claim` (a JSON pointer with `user_claim_json_pointer`): who logged in. */
export function userOf(claims: Claims, claim: string, pointer: boolean): string {
  const raw = pointer ? getClaim(claims, claim) : Object.hasOwn(claims, claim) ? claims[claim] : undefined;
  if (raw === undefined || raw === null) throw jwtErrors.userClaimMissing(claim);
  const value = asString(raw);
  if (value === undefined) throw jwtErrors.userClaimNotString(claim);
  return value;
}

/** The role's `claim_mappings` applied: metadata key → claim value; absent claims are skipped. */
export function mappedMetadata(claims: Claims, mappings: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [claim, key] of Object.entries(mappings)) {
    const raw = getClaim(claims, claim);
    if (raw === undefined || raw === null) continue;
    const value = asString(raw);
    if (value === undefined) throw jwtErrors.mappedClaimNotString(claim);
    out[key] = value;
  }
  return out;
}
