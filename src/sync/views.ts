import { z } from 'zod';
import { MASK, type Association, type Destination } from './model.js';
import { effectiveTemplate } from './naming.js';

/**
 * What the `sys/sync` API shows of sync's records, as Vault shows it: the response schemas (the
 * allow-list of what may leave the server) and the views that fill them. Credentials never
 * leave unmasked.
 */

export const destinationResponse = z.object({
  name: z.string(),
  type: z.string(),
  connection_details: z.record(z.string(), z.unknown()),
  options: z.record(z.string(), z.unknown()),
  purge_initiated_at: z.string().optional(),
  purge_error: z.string().optional(),
  /** Ferry's addition: optional IAM actions AWS denied, each with what Ferry does without it. */
  missing_permissions: z.record(z.string(), z.string()).optional(),
});

export const associationEntry = z.object({
  accessor: z.string(),
  secret_name: z.string(),
  sync_status: z.string(),
  updated_at: z.string(),
  mount: z.string(),
  sub_key: z.string().optional(),
  /** Ferry's extensions (Vault's entry has none of them): the AWS secret this entry maps to… */
  external_name: z.string(),
  /** …the last failed or throttled attempt (transient ones too), cleared by a success… */
  last_error: z.string().optional(),
  last_error_at: z.string().optional(),
  /** …consecutive failed attempts, and when the next one is due… */
  attempts: z.number().int(),
  next_attempt_at: z.string().optional(),
  /** …the out-of-band changes drift repair undid… */
  drift_repairs: z.number().int().optional(),
  last_repaired_at: z.string().optional(),
  /** …the prefix association that brought the secret in (`prefixes.ts`), and whether it is also set explicitly… */
  prefix: z.string().optional(),
  explicit: z.boolean().optional(),
  /** …and a pre-existing AWS secret taken over on `adopt=true`. */
  adopted: z.boolean().optional(),
  adopted_at: z.string().optional(),
});

export const associationsResponse = z.object({
  associated_secrets: z.record(z.string(), associationEntry),
  store_name: z.string(),
  store_type: z.string(),
});

/** One entry per external secret of an association, keyed as Vault keys them. */
export function associationEntries(a: Association): Record<string, z.infer<typeof associationEntry>> {
  const out: Record<string, z.infer<typeof associationEntry>> = {};
  for (const [subKey, t] of Object.entries(a.targets)) {
    if (subKey.startsWith('retired:')) continue;
    const id = a.granularity === 'secret-key' ? `${a.accessor}/${a.secret_name}/${subKey}` : `${a.accessor}/${a.secret_name}`;
    out[id] = {
      accessor: a.accessor,
      secret_name: a.secret_name,
      sync_status: t.status,
      updated_at: t.updated_at,
      mount: a.mount,
      ...(a.granularity === 'secret-key' ? { sub_key: subKey } : {}),
      external_name: t.name,
      ...(t.last_error ? { last_error: t.last_error } : {}),
      ...(t.last_error_at ? { last_error_at: t.last_error_at } : {}),
      attempts: t.attempts ?? 0,
      ...(t.next_attempt_at ? { next_attempt_at: t.next_attempt_at } : {}),
      ...(t.repairs ? { drift_repairs: t.repairs } : {}),
      ...(t.last_repaired_at ? { last_repaired_at: t.last_repaired_at } : {}),
      ...(a.prefixes && a.prefixes.length > 0 ? { prefix: a.prefixes[0], explicit: a.explicit !== false } : {}),
      ...(t.adopted_at ? { adopted: true, adopted_at: t.adopted_at } : {}),
    };
  }
  return out;
}

/** A prefix association's progress (a Ferry extension), as its listing and the destination summary show it. */
export const prefixProgress = z.object({
  mount: z.string(),
  prefix: z.string(),
  state: z.enum(['bringing-in', 'complete', 'removing']),
  brought_in: z.number().int(),
  skipped: z.number().int(),
});

export const configResponse = z.object({
  disabled: z.boolean(),
  queue_capacity: z.number().int(),
  /** Ferry's extension: drift repair's interval in seconds (0 = off). */
  reconcile_interval: z.number().int(),
  /** Ferry's extension: the AWS calls per second each destination's budget starts at and regrows to, per quota group. */
  write_budget_per_second: z.number().int(),
});

/** The read model: credentials masked, options as Vault reports them. */
export function destinationView(d: Destination): Record<string, unknown> {
  const c = d.connection;
  const connection: Record<string, unknown> = {
    region: c.region,
  };
  if (c.access_key_id) connection.access_key_id = MASK;
  if (c.secret_access_key) connection.secret_access_key = MASK;
  if (c.role_arn) connection.role_arn = c.role_arn;
  if (c.external_id) connection.external_id = c.external_id;
  if (c.identity_token_audience) connection.identity_token_audience = MASK;
  if (c.identity_token_key) connection.identity_token_key = MASK;
  if (c.identity_token_audience || c.identity_token_ttl !== 3600) connection.identity_token_ttl = c.identity_token_ttl;
  if (c.kms_key_id) connection.kms_key_id = c.kms_key_id;
  if (Object.keys(c.replica_regions).length > 0) connection.replica_regions = c.replica_regions;
  if (c.endpoint_url) connection.endpoint_url = c.endpoint_url;
  if (c.sts_endpoint_url) connection.sts_endpoint_url = c.sts_endpoint_url;
  const options: Record<string, unknown> = {
    custom_tags: d.options.custom_tags,
    granularity_level: d.options.granularity_level,
    secret_name_template: effectiveTemplate(d.options),
    disable_strict_networking: c.disable_strict_networking,
  };
  if (c.allowed_ipv4_addresses.length > 0) options.allowed_ipv4_addresses = c.allowed_ipv4_addresses;
  if (c.allowed_ipv6_addresses.length > 0) options.allowed_ipv6_addresses = c.allowed_ipv6_addresses;
  if (c.allowed_ports.length > 0) options.allowed_ports = c.allowed_ports;
  const data: Record<string, unknown> = { name: d.name, type: d.type, connection_details: connection, options };
  if (d.purge_initiated_at) data.purge_initiated_at = d.purge_initiated_at;
  if (d.purge_error) data.purge_error = d.purge_error;
  if (d.missing_permissions && Object.keys(d.missing_permissions).length > 0) data.missing_permissions = d.missing_permissions;
  return data;
}

/** Statuses of one association summarised for the per-secret views. */
export function summaryStatus(a: Association): { sync_status: string; updated_at: string } {
  const targets = Object.values(a.targets);
  if (targets.length === 0) return { sync_status: a.removing ? 'UNSYNCING' : 'PENDING', updated_at: a.created_at };
  const failed = targets.find((t) => t.status.endsWith('_ERROR'));
  const latest = targets.map((t) => t.updated_at).sort().at(-1)!;
  if (failed) return { sync_status: failed.status, updated_at: latest };
  const pending = targets.find((t) => t.status !== 'SYNCED');
  return { sync_status: pending?.status ?? 'SYNCED', updated_at: latest };
}
