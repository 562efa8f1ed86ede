/**
 * Vault trims and lower-cases policy names wherever it takes one: in `sys/policies/acl/:name`,
 * `sys/policy/:name` and a token's `policies`. Every use goes through this one function — the
 * ACL check of a policy path included — so `ADMIN` or `admin ` can never name a policy the
 * ACL sees as another path than the store does.
 */
export function normalisePolicyName(name: string): string {
  return name.trim().toLowerCase();
}
