/**
 * The one declared schema of Ferry's configuration file (HCL or JSON, Vault's key names).
 *
 * Every key a file may carry is declared here, in one of three ways:
 *   - a Ferry key: validated and acted on (or, for `telemetry` and `ui`, handed to the feature
 *     that acts on it);
 *   - `vaultOnly()`: a Vault key Ferry accepts without acting on it; the server starts and one
 *     WARN line names every such key it found;
 *   - `refused(reason)`: a Vault key whose absence would change security (auto-unseal, HA
 *     storage, client-certificate checks), refused by name.
 * Anything else is a typo or a key of another product: an error naming the file, the line and
 * the key, with a "did you mean" when a declared key is close. Later issues extend this file
 * (listener limits, storage drivers' keys): a new storage driver is one entry
 * in `STORAGE_TYPES`.
 */
import { z } from 'zod';
import { parseBool, parseDuration } from '../kernel/fields.js';
import { listenerLimitKeys } from './listener-limits.js';

/** What a `vaultOnly()` key decodes to; the loader collects and drops these. */
export const IGNORED: unique symbol = Symbol('ignored Vault key');

/** A Vault key Ferry accepts and does not act on (listed in one WARN line at start). */
export const vaultOnly = () =>
  z
    .unknown()
    .optional()
    .transform((v): typeof IGNORED | undefined => (v === undefined ? undefined : IGNORED));

/** A Vault key or stanza Ferry refuses by name, with the reason. */
export const refused = (reason: string) =>
  z
    .unknown()
    .optional()
    .superRefine((value, ctx) => {
      if (value !== undefined) ctx.addIssue({ code: 'custom', message: reason, params: { refused: true } });
    });

export const boolish = z.union([z.boolean(), z.string(), z.number()]).transform((v, ctx) => {
  const b = parseBool(v);
  if (b === undefined) {
    ctx.addIssue({ code: 'custom', message: `expected a boolean, got ${JSON.stringify(v)}` });
    return z.NEVER;
  }
  return b;
});

/** A Go duration (`"768h"`, `"30s"`) or a number of seconds. */
export const duration = z.union([z.number(), z.string()]).transform((v, ctx) => {
  const s = parseDuration(v);
  if (s === undefined) {
    ctx.addIssue({ code: 'custom', message: `expected a duration such as "768h" or "30s", got ${JSON.stringify(v)}` });
    return z.NEVER;
  }
  return s;
});

const integer = z.union([z.number().int(), z.string().regex(/^-?\d+$/, 'expected an integer').transform(Number)]);

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'warning', 'err', 'error'] as const;
const logLevel = z
  .string()
  .transform((s) => s.trim().toLowerCase())
  .refine((s) => (LOG_LEVELS as readonly string[]).includes(s), { message: `expected one of ${LOG_LEVELS.join(', ')}` });
export const logFormat = z
  .string()
  .transform((s) => s.trim().toLowerCase())
  .refine((s) => s === 'standard' || s === 'json', { message: 'expected "standard" or "json"' });

const TLS_VERSIONS = { tls10: 'TLSv1', tls11: 'TLSv1.1', tls12: 'TLSv1.2', tls13: 'TLSv1.3' } as const;
const tlsVersion = z.enum(Object.keys(TLS_VERSIONS) as [keyof typeof TLS_VERSIONS]).transform((v) => TLS_VERSIONS[v]);

/** `listener "tcp" { telemetry { … } }`: whether this listener serves `sys/metrics` without a token. */
const listenerTelemetry = z.strictObject({
  unauthenticated_metrics_access: boolish.default(false),
});

/** `listener "tcp" { … }`. */
export const tcpListenerSchema = z.strictObject({
  address: z.string().min(1).default('127.0.0.1:8200'),
  tls_disable: boolish.default(false),
  tls_cert_file: z.string().optional(),
  tls_key_file: z.string().optional(),
  tls_min_version: tlsVersion.optional(),
  tls_max_version: tlsVersion.optional(),
  max_request_size: integer.optional(),
  telemetry: listenerTelemetry.optional(),
  // The listener's timeouts, JSON limits and max_connections, declared in their own module.
  ...listenerLimitKeys,
  // Mutual TLS that Ferry does not check: refused rather than silently not enforced.
  tls_require_and_verify_client_cert: boolish
    .refine((v) => !v, { message: 'Ferry does not verify client certificates; remove the key or set it to false', params: { refused: true } })
    .optional(),
  tls_client_ca_file: vaultOnly(),
  tls_disable_client_certs: vaultOnly(),
  tls_cipher_suites: vaultOnly(),
  tls_prefer_server_cipher_suites: vaultOnly(),
  /** Where this node listens for requests other nodes forward (HA); the listener's port + 1 by default. */
  cluster_address: z.string().min(1).optional(),
  max_request_duration: vaultOnly(),
  proxy_protocol_behavior: vaultOnly(),
  proxy_protocol_authorized_addrs: vaultOnly(),
  x_forwarded_for_authorized_addrs: vaultOnly(),
  x_forwarded_for_hop_skips: vaultOnly(),
  x_forwarded_for_reject_not_authorized: vaultOnly(),
  x_forwarded_for_reject_not_present: vaultOnly(),
  x_forwarded_for_client_cert_header: vaultOnly(),
  x_forwarded_for_client_cert_header_decoder: vaultOnly(),
  redact_addresses: vaultOnly(),
  redact_cluster_name: vaultOnly(),
  redact_version: vaultOnly(),
  profiling: vaultOnly(),
  inflight_requests_logging: vaultOnly(),
  custom_response_headers: vaultOnly(),
  chroot_namespace: vaultOnly(),
  disable_replication_status_endpoints: vaultOnly(),
  disable_request_limiter: vaultOnly(),
});

/** `storage "sqlite" { … }`: Ferry's embedded store. */
const sqliteStorageSchema = z.strictObject({
  path: z.string().min(1, 'must not be empty'),
});

const OWN_TABLES =
  'Ferry keeps its own tables (ferry_*) and cannot rename them; give each Ferry cluster its own database, or its own schema through search_path in connection_url (?options=-c%20search_path%3Dname)';

/**
 * `storage "postgresql" { … }`, with Vault's key names (Vault passes them as strings; numbers and
 * booleans are taken too). `connection_url` may instead come from `VAULT_PG_CONNECTION_URL`, which
 * wins, as in Vault; the loader checks that one of them is set.
 */
const postgresqlStorageSchema = z.strictObject({
  connection_url: z.string().min(1, 'must not be empty').optional(),
  /** Handed to composition: several nodes on one database elect one active node. */
  ha_enabled: boolish.default(false),
  /** Most connections (concurrent statements) this node opens; Ferry's default is 16 (see `src/store/postgres.ts`). */
  max_parallel: integer.refine((n) => n >= 1, { message: 'must be at least 1' }).optional(),
  // Vault's table names: Ferry keeps its own schema (ferry_* tables and functions, created by its
  // migrations), so a name here would be ignored; a user separating two servers by table would
  // silently share one store. Refused, with the way to separate them instead.
  table: refused(OWN_TABLES),
  ha_table: refused(OWN_TABLES),
  upsert_function: refused('Ferry writes through its own function (ferry_commit), created by its migrations; remove the key'),
  max_idle_connections: vaultOnly(),
});

/**
 * The storage drivers Ferry has, by the stanza's type label. Adding one is an entry here (its
 * keys) and its construction in `compose.ts`; any other type is refused by name.
 */
export const STORAGE_TYPES = {
  sqlite: sqliteStorageSchema,
  postgresql: postgresqlStorageSchema,
};
export type StorageType = keyof typeof STORAGE_TYPES;

/**
 * The top-level `telemetry` stanza, acted on by `sys/metrics` (the metrics feature): the
 * Prometheus form's switch and where the hostname goes.
 */
const telemetrySchema = z.strictObject({
  prometheus_retention_time: duration.default(24 * 3600),
  disable_hostname: boolish.default(false),
  enable_hostname_label: boolish.default(false),
  // Ferry's metric names are fixed (`ferry_…`, documented in the README) and its series few and
  // bounded, so the prefix, the usage gauges' period, the cardinality cap and the filters are Vault's only.
  metrics_prefix: vaultOnly(),
  usage_gauge_period: vaultOnly(),
  maximum_gauge_cardinality: vaultOnly(),
  filter_default: vaultOnly(),
  prefix_filter: vaultOnly(),
  // Sinks and lease metrics Ferry does not have.
  statsite_address: vaultOnly(),
  statsd_address: vaultOnly(),
  dogstatsd_addr: vaultOnly(),
  dogstatsd_tags: vaultOnly(),
  lease_metrics_epsilon: vaultOnly(),
  num_lease_metrics_buckets: vaultOnly(),
  add_lease_metrics_namespace_labels: vaultOnly(),
  add_mount_point_rollback_metrics: vaultOnly(),
  circonus_api_token: vaultOnly(),
  circonus_api_app: vaultOnly(),
  circonus_api_url: vaultOnly(),
  circonus_submission_interval: vaultOnly(),
  circonus_submission_url: vaultOnly(),
  circonus_check_id: vaultOnly(),
  circonus_check_force_metric_activation: vaultOnly(),
  circonus_check_instance_id: vaultOnly(),
  circonus_check_search_tag: vaultOnly(),
  circonus_check_display_name: vaultOnly(),
  circonus_check_tags: vaultOnly(),
  circonus_broker_id: vaultOnly(),
  circonus_broker_select_tag: vaultOnly(),
  stackdriver_project_id: vaultOnly(),
  stackdriver_location: vaultOnly(),
  stackdriver_namespace: vaultOnly(),
  stackdriver_debug_logs: vaultOnly(),
});

/** An http(s) URL, as a prefix of sync endpoints. */
const endpointPrefix = z.string().refine(
  (v) => {
    try {
      const url = new URL(v);
      return (url.protocol === 'http:' || url.protocol === 'https:') && url.search === '' && url.hash === '' && url.username === '' && url.password === '';
    } catch {
      return false;
    }
  },
  { message: 'expected an http:// or https:// URL without query, fragment or credentials' },
);

/**
 * Ferry's `sync { … }` stanza (Vault has none). `allowed_endpoint_prefixes`: the URLs a
 * destination's `endpoint_url` and `sts_endpoint_url` must lie under (same scheme, host and port,
 * the path at or below the prefix's); empty, the default, restricts nothing beyond the `sudo`
 * those fields need.
 */
const syncSchema = z.strictObject({
  allowed_endpoint_prefixes: z.array(endpointPrefix).default([]),
});

/** One labelled stanza, after the loader's normalisation: `{ <type>: body }`. */
const stanza = <T extends z.ZodRawShape>(types: T) => z.array(z.strictObject(types).partial());

/**
 * One configuration file. Every top-level key is optional here: a configuration may be split
 * over several files (`-config` given more than once, or a directory), and what must be present
 * (a listener, a storage stanza) is checked once they are merged.
 */
export const configFileSchema = z.strictObject({
  listener: stanza({ tcp: tcpListenerSchema }).optional(),
  storage: stanza(STORAGE_TYPES).optional(),
  /** Vault's older name for `storage`. */
  backend: stanza(STORAGE_TYPES).optional(),
  api_addr: z.string().optional(),
  cluster_addr: z.string().optional(),
  /** Served by the UI issue at `/ui/`. */
  ui: boolish.optional(),
  log_level: logLevel.optional(),
  log_format: logFormat.optional(),
  default_lease_ttl: duration.optional(),
  max_lease_ttl: duration.optional(),
  pid_file: z.string().optional(),
  telemetry: telemetrySchema.optional(),
  sync: syncSchema.optional(),

  seal: refused('auto-unseal is not supported: Ferry unseals with Shamir key shares only; remove the seal stanza'),
  ha_storage: refused('Ferry has no separate HA storage: remove the ha_storage stanza (for HA, use storage "postgresql" with ha_enabled = "true")'),
  ha_backend: refused('Ferry has no separate HA storage: remove the ha_backend stanza (for HA, use storage "postgresql" with ha_enabled = "true")'),

  disable_mlock: vaultOnly(),
  cluster_name: vaultOnly(),
  plugin_directory: vaultOnly(),
  plugin_tmpdir: vaultOnly(),
  plugin_file_uid: vaultOnly(),
  plugin_file_permissions: vaultOnly(),
  disable_cache: vaultOnly(),
  cache_size: vaultOnly(),
  log_file: vaultOnly(),
  log_rotate_bytes: vaultOnly(),
  log_rotate_duration: vaultOnly(),
  log_rotate_max_files: vaultOnly(),
  log_requests_level: vaultOnly(),
  disable_clustering: vaultOnly(),
  disable_performance_standby: vaultOnly(),
  disable_sealwrap: vaultOnly(),
  disable_printable_check: vaultOnly(),
  disable_sentinel_trace: vaultOnly(),
  raw_storage_endpoint: vaultOnly(),
  introspection_endpoint: vaultOnly(),
  enable_response_header_hostname: vaultOnly(),
  enable_response_header_raft_node_id: vaultOnly(),
  detect_deadlocks: vaultOnly(),
  experiments: vaultOnly(),
  license_path: vaultOnly(),
  imprecise_lease_role_tracking: vaultOnly(),
  enable_post_unseal_trace: vaultOnly(),
  post_unseal_trace_directory: vaultOnly(),
  administrative_namespace_path: vaultOnly(),
  default_max_request_duration: vaultOnly(),
  cluster_cipher_suites: vaultOnly(),
  service_registration: vaultOnly(),
  user_lockout: vaultOnly(),
  reporting: vaultOnly(),
  entropy: vaultOnly(),
  kms_library: vaultOnly(),
  replication: vaultOnly(),
});

export type ConfigFile = z.output<typeof configFileSchema>;
export type TcpListenerConfig = z.output<typeof tcpListenerSchema>;
export type TelemetryConfig = z.output<typeof telemetrySchema>;
export const telemetryDefaults = (): TelemetryConfig => telemetrySchema.parse({}) as TelemetryConfig;

/** Top-level keys holding labelled stanzas (`listener "tcp" {}`), normalised to lists of `{ type: body }`. */
export const LABELLED_STANZAS = ['listener', 'storage', 'backend'] as const;
