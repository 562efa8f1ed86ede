import pino, { type Logger, type DestinationStream } from 'pino';

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

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: undefined,
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    },
    destination ?? pino.destination(2),
  );
}
