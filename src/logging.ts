import pino, { type Logger, type DestinationStream } from 'pino';

/**
 * Paths pino censors wherever they appear in a log object. Request bodies and query
 * strings are never logged at all; this list is the second line of defence for
 * objects that carry tokens, credentials or secret values.
 */
export const REDACT_PATHS = [
  'token',
  'client_token',
  'clientToken',
  'id',
  '*.token',
  '*.client_token',
  '*.clientToken',
  'headers["x-vault-token"]',
  'headers.authorization',
  '*.headers["x-vault-token"]',
  '*.headers.authorization',
  'secret_access_key',
  '*.secret_access_key',
  'access_key_id',
  '*.access_key_id',
  'credentials',
  '*.credentials',
  'data',
  '*.data',
  'value',
  '*.value',
  'SecretString',
  '*.SecretString',
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
