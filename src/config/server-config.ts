import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { parseBool } from '../kernel/fields.js';
import { HclSyntaxError, parseHcl, type HclObject } from '../kernel/hcl.js';

/** What `ferry server -config FILE` runs with, after validation. */
export interface ServerConfig {
  listener: {
    address: string;
    tlsDisable: boolean;
    tlsCertFile?: string;
    tlsKeyFile?: string;
    maxRequestSize: number;
  };
  storage: { type: 'sqlite'; path: string };
  apiAddr?: string;
  logLevel: string;
}

export class ConfigError extends Error {}

export const DEFAULT_MAX_REQUEST_SIZE = 32 * 1024 * 1024;

const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'warning', 'err', 'error'];

const boolish = z.union([z.boolean(), z.string(), z.number()]).transform((v, ctx) => {
  const b = parseBool(v);
  if (b === undefined) {
    ctx.addIssue({ code: 'custom', message: `expected a boolean, got ${JSON.stringify(v)}` });
    return z.NEVER;
  }
  return b;
});

const tcpListener = z.looseObject({
  address: z.string().default('127.0.0.1:8200'),
  tls_disable: boolish.default(false),
  tls_cert_file: z.string().optional(),
  tls_key_file: z.string().optional(),
  max_request_size: z.union([z.number().int(), z.string().regex(/^-?\d+$/).transform(Number)]).optional(),
});

const sqliteStorage = z.looseObject({ path: z.string().min(1, 'must not be empty') });

/** Vault configs write one block or several; both come out as a list of `{type: body}`. */
function blocks(value: unknown): Array<[string, unknown]> {
  const items = Array.isArray(value) ? value : [value];
  const out: Array<[string, unknown]> = [];
  for (const item of items) {
    if (item && typeof item === 'object' && !Array.isArray(item)) {
      for (const [type, body] of Object.entries(item)) {
        for (const b of Array.isArray(body) ? body : [body]) out.push([type, b]);
      }
    }
  }
  return out;
}

function issueText(prefix: string, error: z.ZodError): string {
  const issue = error.issues[0]!;
  const key = [prefix, ...issue.path.map(String)].filter(Boolean).join('.');
  return `invalid value for "${key}": ${issue.message}`;
}

/** Parses and validates a Vault-style config file (HCL or JSON); errors name the key and the file. */
export function loadServerConfig(file: string): ServerConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`error loading configuration from ${file}: ${(err as Error).message}`);
  }
  let doc: HclObject;
  try {
    if (file.endsWith('.json') || text.trimStart().startsWith('{')) doc = JSON.parse(text) as HclObject;
    else doc = parseHcl(text, file);
  } catch (err) {
    if (err instanceof HclSyntaxError) throw new ConfigError(`error parsing ${file}: ${err.message}`);
    throw new ConfigError(`error parsing ${file}: ${(err as Error).message}`);
  }
  const fail = (message: string): never => {
    throw new ConfigError(`error in configuration file ${file}: ${message}`);
  };

  const listeners = blocks(doc.listener);
  if (listeners.length === 0) fail('missing "listener" block: add listener "tcp" { address = "127.0.0.1:8200" }');
  const [listenerType, listenerBody] = listeners[0]!;
  if (listenerType !== 'tcp') fail(`unsupported listener type "listener.${listenerType}": only "tcp" is supported`);
  const l = tcpListener.safeParse(listenerBody ?? {});
  if (!l.success) fail(issueText('listener.tcp', l.error));
  const listener = l.data!;
  if (!listener.tls_disable && (!listener.tls_cert_file || !listener.tls_key_file)) {
    fail('"listener.tcp.tls_cert_file" and "listener.tcp.tls_key_file" are required unless "tls_disable" is set');
  }

  const storages = blocks(doc.storage ?? doc.backend);
  if (storages.length === 0) fail('missing "storage" block: add storage "sqlite" { path = "/var/lib/ferry/ferry.db" }');
  const [storageType, storageBody] = storages[0]!;
  if (storageType !== 'sqlite') fail(`unsupported storage type "storage.${storageType}": Ferry supports "sqlite"`);
  const s = sqliteStorage.safeParse(storageBody ?? {});
  if (!s.success) fail(issueText('storage.sqlite', s.error));

  if (doc.api_addr !== undefined && typeof doc.api_addr !== 'string') fail('invalid value for "api_addr": expected a string');
  const logLevel = doc.log_level ?? 'info';
  if (typeof logLevel !== 'string' || !LOG_LEVELS.includes(logLevel.toLowerCase())) {
    fail(`invalid value for "log_level": expected one of ${LOG_LEVELS.join(', ')}`);
  }
  const maxRequestSize = listener.max_request_size;
  return {
    listener: {
      address: listener.address,
      tlsDisable: listener.tls_disable,
      tlsCertFile: listener.tls_cert_file,
      tlsKeyFile: listener.tls_key_file,
      // Vault: 0 means the default, a negative value disables the limit.
      maxRequestSize:
        maxRequestSize === undefined || maxRequestSize === 0
          ? DEFAULT_MAX_REQUEST_SIZE
          : maxRequestSize < 0
            ? Number.MAX_SAFE_INTEGER
            : maxRequestSize,
    },
    storage: { type: 'sqlite', path: s.data!.path },
    apiAddr: doc.api_addr as string | undefined,
    logLevel: normaliseLevel(logLevel as string),
  };
}

export function normaliseLevel(level: string): string {
  const l = level.toLowerCase();
  return l === 'warning' ? 'warn' : l === 'err' ? 'error' : l;
}

