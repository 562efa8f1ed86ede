import { z } from 'zod';

/**
 * Vault's weakly typed field decoders, as zod schemas. The `vault` CLI sends every value
 * as a JSON string (`vault write p ttl=1h enabled=true`), so each field accepts the loose
 * input Vault accepts and converts it to the typed value the domain works with. The input
 * side of each schema (a union) is what the generated OpenAPI document shows.
 */

const scalar = z.union([z.string(), z.number(), z.boolean()]);

/** Go's strconv.ParseBool vocabulary. */
const TRUE = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);
const FALSE = new Set(['0', 'f', 'F', 'FALSE', 'false', 'False']);

export function parseBool(v: unknown): boolean | undefined {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v !== 0;
  if (typeof v === 'string') {
    if (TRUE.has(v)) return true;
    if (FALSE.has(v)) return false;
  }
  return undefined;
}

const UNIT_SECONDS: Record<string, number> = { ns: 1e-9, us: 1e-6, 'µs': 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600, d: 86400 };

/**
 * Milliseconds of a Go duration string (`1h30m`, `500ms`, `-1s`), or of a number or numeric
 * string taken as seconds (Vault's `ParseDurationSecond`); undefined when it is neither.
 */
export function parseDurationMs(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v * 1000 : undefined;
  if (typeof v !== 'string') return undefined;
  const text = v.trim();
  if (text === '') return 0;
  if (/^[+-]?\d+$/.test(text)) return Number(text) * 1000;
  const m = /^([+-])?((?:\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h|d))+)$/.exec(text);
  if (!m) return undefined;
  let total = 0;
  for (const part of m[2]!.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h|d)/g)) {
    total += Number(part[1]) * UNIT_SECONDS[part[2]!]! * 1000;
  }
  return m[1] === '-' ? -total : total;
}

/** Seconds from an int, a numeric string, or a Go duration string (`1h30m`, `-1s`, `0s`). */
export function parseDuration(v: unknown, allowNegative = false): number | undefined {
  const ms = parseDurationMs(v);
  if (ms === undefined) return undefined;
  const seconds = Math.trunc(typeof v === 'number' ? v : ms / 1000);
  if (!Number.isSafeInteger(seconds)) return undefined;
  if (seconds < 0 && !allowNegative) return undefined;
  return seconds;
}

/** A string; numbers and booleans are stringified as Go's decoder does. */
export const vString = () => scalar.transform((v) => String(v));

export const vBool = () =>
  scalar.transform((v, ctx) => {
    const b = parseBool(v);
    if (b === undefined) {
      ctx.addIssue({ code: 'custom', message: 'strconv.ParseBool: invalid syntax' });
      return z.NEVER;
    }
    return b;
  });

export const vInt = () =>
  z.union([z.number(), z.string()]).transform((v, ctx) => {
    const n = typeof v === 'number' ? v : v.trim() === '' ? NaN : Number(v);
    if (!Number.isSafeInteger(n)) {
      ctx.addIssue({ code: 'custom', message: 'cannot parse as an integer' });
      return z.NEVER;
    }
    return n;
  });

/** Seconds; accepts `3600`, `"3600"`, `"1h"`. */
export const vDuration = (opts: { allowNegative?: boolean } = {}) =>
  z.union([z.number(), z.string()]).transform((v, ctx) => {
    const s = parseDuration(v, opts.allowNegative);
    if (s === undefined) {
      ctx.addIssue({ code: 'custom', message: 'time: invalid duration' });
      return z.NEVER;
    }
    return s;
  });

/** A list of strings: a JSON array, or one string split on commas. */
export const vStrings = () =>
  z.union([z.array(scalar), z.string()]).transform((v) =>
    (Array.isArray(v) ? v.map(String) : v.split(',')).map((s) => s.trim()).filter((s) => s !== ''),
  );

/** A list of integers: a JSON array of numbers or numeric strings, or `"1,2"`. */
export const vInts = () =>
  z.union([z.array(z.union([z.number(), z.string()])), z.string(), z.number()]).transform((v, ctx) => {
    const items = Array.isArray(v) ? v : typeof v === 'number' ? [v] : v.split(',').filter((s) => s.trim() !== '');
    const out: number[] = [];
    for (const item of items) {
      const n = typeof item === 'number' ? item : Number(String(item).trim());
      if (!Number.isSafeInteger(n)) {
        ctx.addIssue({ code: 'custom', message: 'cannot parse as a list of integers' });
        return z.NEVER;
      }
      out.push(n);
    }
    return out;
  });

/** string→string pairs: a JSON object (values stringified), `["k=v", …]`, or `"k=v"`. */
export const vKeyPairs = () =>
  z.union([z.record(z.string(), z.unknown()), z.array(z.string()), z.string()]).transform((v, ctx) => {
    const out: Record<string, string> = {};
    if (typeof v === 'string' || Array.isArray(v)) {
      for (const pair of typeof v === 'string' ? (v === '' ? [] : [v]) : v) {
        const eq = pair.indexOf('=');
        if (eq <= 0) {
          ctx.addIssue({ code: 'custom', message: 'invalid key pair: expected key=value' });
          return z.NEVER;
        }
        out[pair.slice(0, eq)] = pair.slice(eq + 1);
      }
      return out;
    }
    for (const [k, val] of Object.entries(v)) {
      out[k] = typeof val === 'string' ? val : JSON.stringify(val);
    }
    return out;
  });

/** A JSON object, taken as is (KV data, options). */
export const vMap = () => z.record(z.string(), z.unknown());

export type FieldShape = Record<string, z.ZodType>;
