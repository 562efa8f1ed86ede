import { z } from 'zod';
import { parseDurationMs } from '../kernel/fields.js';
import { DEFAULT_LISTENER_TIMEOUTS, type ListenerTimeouts } from '../http/connection-deadlines.js';
import { DEFAULT_JSON_LIMITS, type JsonLimits } from '../http/json-limits.js';
import { DEFAULT_MAX_CONNECTIONS } from '../http/server.js';

/**
 * The `listener "tcp"` keys that bound what a client can make the server hold: Vault's
 * timeouts (`http_read_header_timeout`, `http_read_timeout`, `http_write_timeout`,
 * `http_idle_timeout`), Vault's JSON limits (`max_json_depth`, `max_json_string_value_length`,
 * `max_json_object_entry_count`, `max_json_array_element_count`), and Ferry's own
 * `max_connections`. Kept apart from the listener's other keys (`server-config.ts` spreads
 * them into its schema) so that they read as one set.
 *
 * As in Vault, `0` (or no value) means the default, for the timeouts and the JSON limits alike.
 */

/** Deepest `max_json_depth` accepted: a deeper value would overflow the stack where a body is walked recursively (JSON.stringify, the audit hasher). */
export const MAX_JSON_DEPTH_CEILING = 1000;

/** A duration as Vault writes it in a config: a Go duration string, or a number of seconds. */
const duration = z.union([z.number(), z.string()]).transform((v, ctx) => {
  const ms = parseDurationMs(v);
  if (ms === undefined || ms < 0) {
    ctx.addIssue({ code: 'custom', message: 'expected a duration such as "10s" or "5m", or a number of seconds, not negative' });
    return z.NEVER;
  }
  return Math.round(ms);
});

/** A count: an integer or an integer string, not negative. */
const count = z.union([z.number().int(), z.string().regex(/^\d+$/).transform(Number)]).refine((n) => n >= 0, 'must not be negative');

export const listenerLimitKeys = {
  http_read_header_timeout: duration.optional(),
  http_read_timeout: duration.optional(),
  http_write_timeout: duration.optional(),
  http_idle_timeout: duration.optional(),
  max_json_depth: count
    .refine((n) => n <= MAX_JSON_DEPTH_CEILING, `must be at most ${MAX_JSON_DEPTH_CEILING}: deeper JSON overflows the JavaScript stack`)
    .optional(),
  max_json_string_value_length: count.optional(),
  max_json_object_entry_count: count.optional(),
  max_json_array_element_count: count.optional(),
  max_connections: count.refine((n) => n >= 1, 'must be at least 1').optional(),
};

type ListenerLimitInput = { [K in keyof typeof listenerLimitKeys]?: number };

/** What the listener and the HTTP application run with. */
export interface ListenerLimits {
  timeouts: ListenerTimeouts;
  jsonLimits: JsonLimits;
  maxConnections: number;
}

/** The configured value, or the default for an absent or zero one (Vault's rule). */
const orDefault = (value: number | undefined, fallback: number): number => (value === undefined || value === 0 ? fallback : value);

export function listenerLimits(keys: ListenerLimitInput): ListenerLimits {
  return {
    timeouts: {
      readHeaderMs: orDefault(keys.http_read_header_timeout, DEFAULT_LISTENER_TIMEOUTS.readHeaderMs),
      readMs: orDefault(keys.http_read_timeout, DEFAULT_LISTENER_TIMEOUTS.readMs),
      writeMs: orDefault(keys.http_write_timeout, DEFAULT_LISTENER_TIMEOUTS.writeMs),
      idleMs: orDefault(keys.http_idle_timeout, DEFAULT_LISTENER_TIMEOUTS.idleMs),
    },
    jsonLimits: {
      maxDepth: orDefault(keys.max_json_depth, DEFAULT_JSON_LIMITS.maxDepth),
      maxStringValueLength: orDefault(keys.max_json_string_value_length, DEFAULT_JSON_LIMITS.maxStringValueLength),
      maxObjectEntryCount: orDefault(keys.max_json_object_entry_count, DEFAULT_JSON_LIMITS.maxObjectEntryCount),
      maxArrayElementCount: orDefault(keys.max_json_array_element_count, DEFAULT_JSON_LIMITS.maxArrayElementCount),
    },
    maxConnections: keys.max_connections ?? DEFAULT_MAX_CONNECTIONS,
  };
}
