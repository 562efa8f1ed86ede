import { z } from 'zod';

/**
 * A JSON object field that the CLI may send as a JSON string (`vault write auth/jwt/role/ci
 * bound_claims='{"repository":"org/repo"}'`), as Vault's TypeMap accepts it.
 */
export const vJsonObject = () =>
  z.union([z.record(z.string(), z.unknown()), z.string()]).transform((v, ctx) => {
    if (typeof v !== 'string') return v;
    if (v.trim() === '') return {};
    try {
      const parsed: unknown = JSON.parse(v);
      if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
    } catch {
      // Falls through to the issue below.
    }
    ctx.addIssue({ code: 'custom', message: 'expected a JSON object' });
    return z.NEVER;
  });

/**
 * string→string pairs (Vault's TypeKVPairs): a JSON object, the same as a JSON string, or
 * `key=value` items (a list, or one string with commas between them).
 */
export const vStringPairs = () =>
  z.union([z.record(z.string(), z.unknown()), z.array(z.string()), z.string()]).transform((v, ctx) => {
    let source: unknown = v;
    if (typeof v === 'string' && v.trim().startsWith('{')) {
      try {
        source = JSON.parse(v);
      } catch {
        ctx.addIssue({ code: 'custom', message: 'expected a JSON object' });
        return z.NEVER;
      }
    }
    const out: Record<string, string> = {};
    if (typeof source === 'string' || Array.isArray(source)) {
      const items = typeof source === 'string' ? source.split(',').filter((s) => s.trim() !== '') : source;
      for (const item of items as string[]) {
        const eq = item.indexOf('=');
        if (eq <= 0) {
          // Named, not quoted: field errors never echo input (see kernel/fields.ts).
          ctx.addIssue({ code: 'custom', message: 'invalid key pair: expected key=value' });
          return z.NEVER;
        }
        out[item.slice(0, eq).trim()] = item.slice(eq + 1).trim();
      }
      return out;
    }
    for (const [k, val] of Object.entries(source as Record<string, unknown>)) {
      if (typeof val !== 'string') {
        ctx.addIssue({ code: 'custom', message: `the value of ${JSON.stringify(k)} is not a string` });
        return z.NEVER;
      }
      out[k] = val;
    }
    return out;
  });
