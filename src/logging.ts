import pino, { type Logger, type DestinationStream } from 'pino';
import { formatStandardLine } from './log-format.js';

/** Field names that hold tokens, key material, credentials or secret values wherever they appear. */
const SENSITIVE_FIELDS = [
  // tokens and accessors' secrets
  'token',
  'client_token',
  'clientToken',
  'root_token',
  'id',
  // unseal key shares and key material
  'key',
  'keys',
  'keys_base64',
  'share',
  'shares',
  'rootKey',
  'root_key',
  'salt',
  // credentials
  'secret_access_key',
  'access_key_id',
  'session_token',
  'credentials',
  'password',
  'private_key',
  'secret',
  // secret values and request bodies
  'data',
  'raw',
  'value',
  'input',
  'SecretString',
  'SecretBinary',
];

/**
 * Paths pino censors wherever they appear in a log object. Request bodies and query
 * strings are never logged at all; this list is the second line of defence for
 * objects that carry tokens, unseal keys, credentials or secret values: each field
 * name is censored at the top level and one and two levels down.
 */
export const REDACT_PATHS = [
  ...SENSITIVE_FIELDS,
  ...SENSITIVE_FIELDS.map((f) => `*.${f}`),
  ...SENSITIVE_FIELDS.map((f) => `*.*.${f}`),
  'headers["x-vault-token"]',
  'headers.authorization',
  '*.headers["x-vault-token"]',
  '*.headers.authorization',
];

export type LogFormat = 'standard' | 'json';

/**
 * Vault's `-log-format` default: `standard` (human lines) when stderr is a terminal, else
 * `json` (one object a line, for collectors), unless the flag, `VAULT_LOG_FORMAT` or
 * `log_format` says otherwise.
 */
export function defaultLogFormat(): LogFormat {
  return process.stderr.isTTY ? 'standard' : 'json';
}

export function createLogger(level: string, destination?: DestinationStream, format: LogFormat = 'json'): Logger {
  const out = destination ?? pino.destination({ dest: 2, sync: true });
  return pino(
    {
      level,
      base: undefined,
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    },
    format === 'json' ? out : { write: (line: string) => out.write(formatStandardLine(line)) },
  );
}

/**
 * Process warnings go through the logger instead of Node's plain-text lines on stderr, which
 * would interleave with JSON logs. The AWS SDK's notice that its future releases need a newer
 * Node (`NodeVersionSupportWarning`) is harmless here — Ferry pins its SDK version — and is
 * logged at debug; every other warning at warn.
 */
export function routeProcessWarnings(log: Logger): void {
  process.removeAllListeners('warning');
  process.on('warning', (warning: Error & { code?: string }) => {
    const message = warning.message.split('\n')[0] ?? '';
    if (message.startsWith('NodeVersionSupportWarning') || warning.name === 'NodeVersionSupportWarning') {
      log.debug({ warning: warning.message.replace(/\s+/g, ' ').trim() }, 'AWS SDK notice about future Node versions');
      return;
    }
    log.warn({ name: warning.name, ...(warning.code ? { code: warning.code } : {}) }, message);
  });
}
