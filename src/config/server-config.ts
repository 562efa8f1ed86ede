import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { z } from 'zod';
import { HclSyntaxError, parseHclDocument, type HclDocument, type HclObject } from '../kernel/hcl.js';
import { parseJsonDocument } from './json-document.js';
import {
  configFileSchema,
  IGNORED,
  LABELLED_STANZAS,
  STORAGE_TYPES,
  telemetryDefaults,
  type ConfigFile,
  type StorageType,
  type TcpListenerConfig,
  type TelemetryConfig,
} from './schema.js';
import { closestKey } from './suggest.js';
import { listenerLimits, type ListenerLimits } from './listener-limits.js';

/**
 * Ferry's HCL server configuration, read and checked. Longer than 400 lines on purpose: parsing,
 * stanza normalisation, the schema of every stanza and the problem report with file and line are
 * one reader, so that every unknown key and every bad value is reported, with its position, by one
 * code path (an unknown configuration key is an error, never ignored).
 */

export class ConfigError extends Error {}

export const DEFAULT_MAX_REQUEST_SIZE = 32 * 1024 * 1024;
/** Vault's system default and maximum lease TTL: 32 days. */
export const DEFAULT_LEASE_TTL = 768 * 3600;

/** One `listener "tcp"` stanza as the server runs it. */
export interface ListenerConfig {
  address: string;
  tlsDisable: boolean;
  tlsCertFile?: string;
  tlsKeyFile?: string;
  /** Node's names: `TLSv1.2`, `TLSv1.3`. */
  tlsMinVersion?: string;
  tlsMaxVersion?: string;
  /** Largest accepted request body, in bytes. */
  maxRequestSize: number;
  telemetry: { unauthenticatedMetricsAccess: boolean };
  /** `cluster_address`: where this node listens for forwarded requests (HA only). */
  clusterAddress?: string;
}

/** One listener with its timeouts, JSON limits and connection cap (`listener-limits.ts`). */
export type ListenerSettings = ListenerConfig & ListenerLimits;

/** The storage stanza, validated; `connectionUrl` already resolved against `VAULT_PG_CONNECTION_URL`. */
export type StorageConfig =
  | { type: 'sqlite'; path: string }
  | {
      type: 'postgresql';
      connectionUrl: string;
      /** Whether nodes sharing the database elect one active node (acted on by HA). */
      haEnabled: boolean;
      maxParallel?: number;
    };

/** What `ferry server -config …` runs with, after validation and merging. */
export interface ServerConfig {
  /** The files read, in the order they were merged. */
  files: string[];
  listeners: ListenerSettings[];
  storage: StorageConfig;
  apiAddr?: string;
  clusterAddr?: string;
  ui: boolean;
  logLevel?: string;
  logFormat?: 'standard' | 'json';
  /** Seconds. */
  defaultLeaseTtl: number;
  maxLeaseTtl: number;
  pidFile?: string;
  /** Acted on by the observability issue (`sys/metrics`); passed through to the app's deps. */
  telemetry: TelemetryConfig;
  /** The `sync` stanza: URL prefixes sync endpoints must lie under (empty: no restriction beyond sudo). */
  sync: { allowedEndpointPrefixes: string[] };
  /** Vault keys present that Ferry accepts without acting on, as dotted paths. */
  ignoredKeys: string[];
}

interface Problem {
  file: string;
  line: number | undefined;
  message: string;
}

function configError(problems: Problem[]): ConfigError {
  const lines = problems.map((p) => `  ${p.file}${p.line === undefined ? '' : `, line ${p.line}`}: ${p.message}`);
  return new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
}

/** `-config` values → files: a directory contributes its `*.hcl` and `*.json` files, by name (as Vault). */
export function configFiles(paths: string[]): string[] {
  const files: string[] = [];
  for (const p of paths) {
    let isDir: boolean;
    try {
      isDir = statSync(p).isDirectory();
    } catch (err) {
      throw new ConfigError(`error loading configuration from ${p}: ${(err as Error).message}`);
    }
    if (!isDir) {
      files.push(p);
      continue;
    }
    const inDir = readdirSync(p, { withFileTypes: true })
      .filter((e) => e.isFile() && /\.(hcl|json)$/.test(e.name))
      .map((e) => e.name)
      .sort();
    if (inDir.length === 0) throw new ConfigError(`error loading configuration from ${p}: the directory holds no .hcl or .json file`);
    files.push(...inDir.map((name) => join(p, name)));
  }
  return files;
}

function parseFile(file: string): HclDocument {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`error loading configuration from ${file}: ${(err as Error).message}`);
  }
  try {
    if (file.endsWith('.json') || text.trimStart().startsWith('{')) return parseJsonDocument(text);
    return parseHclDocument(text, file);
  } catch (err) {
    if (err instanceof HclSyntaxError) throw new ConfigError(`error parsing ${file}: ${err.message}`);
    throw new ConfigError(`error parsing ${file}: ${(err as Error).message}`);
  }
}

/** Extra key lines for the objects the normalisation makes. */
type Lines = (container: object, key: string) => number | undefined;

/**
 * Labelled stanzas come as `{tcp: body}`, `{tcp: [body, body]}` (a repeated HCL block) or, in
 * JSON, `[{tcp: body}, …]`; all become a list of `{tcp: body}`, the bodies unchanged (so their
 * key lines stay known).
 */
function normaliseStanzas(doc: HclDocument): { value: HclObject; lineOf: Lines } {
  const extra = new WeakMap<object, Map<string, number>>();
  const note = (obj: object, key: string, line: number | undefined) => {
    if (line === undefined) return;
    if (!extra.has(obj)) extra.set(obj, new Map());
    extra.get(obj)!.set(key, line);
  };
  const value: HclObject = { ...doc.value };
  const lineOf: Lines = (c, k) => extra.get(c)?.get(k) ?? doc.lineOf(c === value ? doc.value : c, k);
  for (const name of LABELLED_STANZAS) {
    const raw = doc.value[name];
    if (raw === undefined || raw === null || typeof raw !== 'object') continue;
    const out: HclObject[] = [];
    const items = Array.isArray(raw) ? raw : [raw];
    for (const item of items) {
      if (!item || typeof item !== 'object' || Array.isArray(item)) {
        out.push(item as unknown as HclObject);
        continue;
      }
      for (const [label, body] of Object.entries(item)) {
        for (const b of Array.isArray(body) ? body : [body]) {
          const wrapper = Object.defineProperty({}, label, { value: b, enumerable: true, writable: true, configurable: true }) as HclObject;
          note(wrapper, label, lineOf(item, label) ?? doc.lineOf(doc.value, name));
          note(out, String(out.length), lineOf(item, label) ?? doc.lineOf(doc.value, name));
          out.push(wrapper);
        }
      }
    }
    value[name] = out;
  }
  return { value, lineOf };
}

/** The schema reached by following `path` from the file schema (through optional, default and pipe wrappers). */
function schemaAt(path: PropertyKey[]): z.ZodType | undefined {
  type Def = { type: string; innerType?: z.ZodType; in?: z.ZodType; shape?: Record<string, z.ZodType>; element?: z.ZodType };
  const unwrap = (s: z.ZodType): z.ZodType => {
    for (;;) {
      const def = (s as unknown as { def: Def }).def;
      if ((def.type === 'optional' || def.type === 'default' || def.type === 'nullable') && def.innerType) s = def.innerType;
      else if (def.type === 'pipe' && def.in) s = def.in;
      else return s;
    }
  };
  let s: z.ZodType | undefined = unwrap(configFileSchema);
  for (const seg of path) {
    const def = (s as unknown as { def: Def }).def;
    if (def.type === 'array' && typeof seg === 'number') s = def.element;
    else if (def.type === 'object' && def.shape) s = def.shape[String(seg)];
    else return undefined;
    if (!s) return undefined;
    s = unwrap(s);
  }
  return s;
}

function knownKeys(path: PropertyKey[]): string[] {
  const s = schemaAt(path) as unknown as { def?: { type: string; shape?: Record<string, unknown> } } | undefined;
  return s?.def?.type === 'object' && s.def.shape ? Object.keys(s.def.shape) : [];
}

const dotted = (path: PropertyKey[]) => path.filter((s) => typeof s !== 'number').map(String).join('.');

/** Where `path` (plus `key`) was written: its own line, else the nearest enclosing one. */
function lineAt(root: HclObject, lineOf: Lines, path: PropertyKey[], key?: string): number | undefined {
  let cur: unknown = root;
  let best: number | undefined;
  for (const seg of key === undefined ? path : [...path, key]) {
    if (!cur || typeof cur !== 'object') break;
    best = lineOf(cur, String(seg)) ?? best;
    cur = (cur as Record<string, unknown>)[String(seg)];
  }
  return best;
}

function valueAt(root: HclObject, path: PropertyKey[]): unknown {
  let cur: unknown = root;
  for (const seg of path) cur = cur && typeof cur === 'object' ? (cur as Record<string, unknown>)[String(seg)] : undefined;
  return cur;
}

/** One file's problems, in Vault's vocabulary: unknown keys with a suggestion, refused stanzas, bad values. */
function describeIssues(file: string, root: HclObject, lineOf: Lines, issues: z.core.$ZodIssue[]): Problem[] {
  const problems: Problem[] = [];
  for (const issue of issues) {
    const path = issue.path as PropertyKey[];
    if (issue.code === 'unrecognized_keys') {
      const known = knownKeys(path);
      const parent = path.filter((s) => typeof s !== 'number');
      const isStanzaType = parent.length === 1 && (LABELLED_STANZAS as readonly string[]).includes(String(parent[0]));
      for (const key of issue.keys) {
        const line = lineAt(root, lineOf, path, key);
        const name = dotted([...path, key]);
        if (isStanzaType) {
          const kind = parent[0] === 'backend' ? 'storage' : String(parent[0]);
          const hint = parent[0] === 'listener' ? '' : '; storage types Ferry lacks (raft, consul, file, inmem, …) are refused rather than ignored';
          problems.push({ file, line, message: `unsupported ${kind} type "${name}": Ferry supports ${known.map((k) => `"${k}"`).join(', ')}${hint}` });
          continue;
        }
        const suggestion = closestKey(key, known);
        problems.push({ file, line, message: `unknown key "${name}"${suggestion ? `; did you mean "${suggestion}"?` : ''}` });
      }
      continue;
    }
    const line = lineAt(root, lineOf, path);
    const name = dotted(path);
    if (issue.code === 'custom' && (issue.params as { refused?: boolean } | undefined)?.refused) {
      const value = valueAt(root, path);
      const labels = value && typeof value === 'object' && !Array.isArray(value) ? Object.keys(value) : [];
      const what = labels.length === 1 && path.length === 1 ? `${name} "${labels[0]}"` : `"${name}"`;
      problems.push({ file, line, message: `${what} is refused: ${issue.message}` });
      continue;
    }
    problems.push({ file, line, message: `invalid value for "${name}": ${issue.message}` });
  }
  return problems;
}

/** Collects the dotted paths of `vaultOnly()` keys (decoded as `IGNORED`) and removes them. */
function takeIgnored(value: unknown, path: string[], out: string[]): void {
  if (!value || typeof value !== 'object') return;
  if (Array.isArray(value)) {
    for (const item of value) takeIgnored(item, path, out);
    return;
  }
  for (const [key, child] of Object.entries(value)) {
    if (child === IGNORED) {
      out.push([...path, key].join('.'));
      delete (value as Record<string, unknown>)[key];
    } else takeIgnored(child, [...path, key], out);
  }
}

interface Parsed {
  file: string;
  data: ConfigFile;
  lineOf(path: PropertyKey[]): number | undefined;
}

/** Reads, normalises and validates one file: its decoded data, or every problem found in it. */
function readConfigFile(file: string, ignored: string[]): Parsed | Problem[] {
  const doc = normaliseStanzas(parseFile(file));
  const parsed = configFileSchema.safeParse(doc.value);
  if (!parsed.success) return describeIssues(file, doc.value, doc.lineOf, parsed.error.issues);
  takeIgnored(parsed.data, [], ignored);
  return { file, data: parsed.data, lineOf: (path) => lineAt(doc.value, doc.lineOf, path) };
}

function listenerOf(l: TcpListenerConfig): ListenerSettings {
  const size = l.max_request_size;
  return {
    address: l.address,
    tlsDisable: l.tls_disable,
    tlsCertFile: l.tls_cert_file,
    tlsKeyFile: l.tls_key_file,
    tlsMinVersion: l.tls_min_version,
    tlsMaxVersion: l.tls_max_version,
    clusterAddress: l.cluster_address,
    // Vault: 0 means the default, a negative value disables the limit.
    maxRequestSize: size === undefined || size === 0 ? DEFAULT_MAX_REQUEST_SIZE : size < 0 ? Number.MAX_SAFE_INTEGER : size,
    telemetry: { unauthenticatedMetricsAccess: l.telemetry?.unauthenticated_metrics_access ?? false },
    ...listenerLimits(l),
  };
}

/**
 * Reads the configuration from one or more files or directories (Vault's repeatable
 * `-config`), validates each file against the declared schema, and merges them as Vault does:
 * listeners add up, a later file's storage, telemetry and top-level values win. Every problem
 * found is reported at once, each with its file, line and key.
 */
export function loadServerConfig(paths: string | string[], env: NodeJS.ProcessEnv = process.env): ServerConfig {
  const files = configFiles(Array.isArray(paths) ? paths : [paths]);
  const ignored: string[] = [];
  const problems: Problem[] = [];
  const parsed: Parsed[] = [];
  for (const file of files) {
    const read = readConfigFile(file, ignored);
    if (Array.isArray(read)) problems.push(...read);
    else parsed.push(read);
  }
  if (problems.length > 0) throw configError(problems);

  const listeners: ListenerSettings[] = [];
  let storage: StorageConfig | undefined;
  // A problem of the storage stanza that wins (a later file's replaces an earlier one's).
  let storageProblem: Problem | undefined;
  const merged: Partial<ConfigFile> = {};
  const sources: Partial<Record<keyof ConfigFile, string>> = {};
  for (const p of parsed) {
    p.data.listener?.forEach((stanza, i) => {
      const l = stanza.tcp!;
      const line = p.lineOf(['listener', i, 'tcp']);
      if (!l.tls_disable && (!l.tls_cert_file || !l.tls_key_file)) {
        problems.push({ file: p.file, line, message: '"listener.tcp.tls_cert_file" and "listener.tcp.tls_key_file" are required unless "tls_disable" is set' });
      }
      listeners.push(listenerOf(l));
    });
    // One storage stanza per file; across files the later one wins, as in Vault.
    const stanzas = [
      ...(p.data.storage ?? []).map((stanza, i) => ({ stanza, line: p.lineOf(['storage', i]) })),
      ...(p.data.backend ?? []).map((stanza, i) => ({ stanza, line: p.lineOf(['backend', i]) })),
    ];
    if (stanzas.length > 1) {
      problems.push({ file: p.file, line: stanzas[1]!.line, message: `a second storage stanza: Ferry uses exactly one (the first is at line ${stanzas[0]!.line})` });
    } else if (stanzas.length === 1) {
      const [type, body] = Object.entries(stanzas[0]!.stanza)[0]! as [StorageType, unknown];
      const line = stanzas[0]!.line;
      storageProblem = undefined;
      if (type === 'sqlite') storage = { type, path: (body as { path: string }).path };
      else {
        const pgBody = body as { connection_url?: string; ha_enabled: boolean; max_parallel?: number };
        // Vault reads VAULT_PG_CONNECTION_URL over the file's connection_url.
        const connectionUrl = env.VAULT_PG_CONNECTION_URL || pgBody.connection_url;
        if (!connectionUrl) storageProblem = { file: p.file, line, message: '"storage.postgresql.connection_url" is required (or set VAULT_PG_CONNECTION_URL)' };
        storage = {
          type,
          connectionUrl: connectionUrl ?? '',
          haEnabled: pgBody.ha_enabled,
          ...(pgBody.max_parallel === undefined ? {} : { maxParallel: pgBody.max_parallel }),
        };
      }
    }
    for (const [key, value] of Object.entries(p.data)) {
      if (key === 'listener' || key === 'storage' || key === 'backend' || value === undefined) continue;
      (merged as Record<string, unknown>)[key] = value;
      sources[key as keyof ConfigFile] = p.file;
    }
  }
  const everywhere = files.join(', ');
  if (listeners.length === 0) {
    problems.push({ file: everywhere, line: undefined, message: 'missing "listener" stanza: add listener "tcp" { address = "127.0.0.1:8200" }' });
  }
  if (storageProblem) problems.push(storageProblem);
  if (!storage) {
    problems.push({ file: everywhere, line: undefined, message: 'missing "storage" stanza: add storage "sqlite" { path = "/var/lib/ferry/ferry.db" }' });
  }
  const defaultLeaseTtl = merged.default_lease_ttl || DEFAULT_LEASE_TTL;
  const maxLeaseTtl = merged.max_lease_ttl || DEFAULT_LEASE_TTL;
  if (defaultLeaseTtl > maxLeaseTtl) {
    problems.push({
      file: sources.default_lease_ttl ?? sources.max_lease_ttl ?? everywhere,
      line: undefined,
      message: `"default_lease_ttl" (${defaultLeaseTtl}s) cannot be larger than "max_lease_ttl" (${maxLeaseTtl}s)${merged.default_lease_ttl ? '' : '; the default is 768h, so set default_lease_ttl too'}`,
    });
  }
  if (problems.length > 0) throw configError(problems);

  return {
    files,
    listeners,
    storage: storage!,
    apiAddr: merged.api_addr,
    clusterAddr: merged.cluster_addr,
    ui: merged.ui ?? false,
    logLevel: merged.log_level === undefined ? undefined : normaliseLevel(merged.log_level),
    logFormat: merged.log_format as 'standard' | 'json' | undefined,
    defaultLeaseTtl,
    maxLeaseTtl,
    pidFile: merged.pid_file,
    telemetry: merged.telemetry ?? telemetryDefaults(),
    sync: { allowedEndpointPrefixes: merged.sync?.allowed_endpoint_prefixes ?? [] },
    ignoredKeys: [...new Set(ignored)].sort(),
  };
}

/** Vault's level names, in pino's vocabulary. */
export function normaliseLevel(level: string): string {
  const l = level.trim().toLowerCase();
  return l === 'warning' ? 'warn' : l === 'err' ? 'error' : l;
}

/** The storage types Ferry has, for messages. */
export const storageTypes = Object.keys(STORAGE_TYPES);
