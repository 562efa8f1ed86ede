/**
 * Ferry's coded errors. Domain code throws a `FerryError`: a stable `code` (for logs, tests and
 * callers that branch on it), the messages Vault would answer with, and a `kind` saying what
 * sort of failure it is. The HTTP status is not decided here: the wire layer maps each kind to
 * a status in one renderer (`src/http/render-error.ts`), so no domain file knows about HTTP.
 *
 * This file holds the catalogue entries shared by every feature; a feature keeps its own
 * entries beside its code (`kv/errors.ts`, `sync/errors.ts`, …), built with `defineError`.
 * Anything thrown that is not a `FerryError` is a bug: it is logged with its cause chain and
 * answered with a bare 500 that reveals nothing internal.
 */

/** What sort of failure an error is; the renderer maps each kind to one HTTP status. */
export type ErrorKind =
  /** The request is malformed or breaks a rule (400). */
  | 'invalid'
  /** Authentication or authorisation failed (403). */
  | 'denied'
  /** The addressed item or path does not exist (404). */
  | 'missing'
  /** The request clashes with something that exists (409: an auth method enabled over another). */
  | 'conflict'
  /** The path exists but not with this operation or verb (405). */
  | 'unsupported_operation'
  /** The body is larger than the listener accepts (413). */
  | 'too_large'
  /** The body's media type is not the one the operation needs (415). */
  | 'unsupported_media_type'
  /** The server is sealed or otherwise cannot serve right now (503). */
  | 'unavailable'
  /** A bug or an unexpected failure; the message never carries internals (500). */
  | 'internal';

export interface FerryErrorOptions {
  /** Rare: Vault sometimes returns data alongside errors. */
  data?: Record<string, unknown>;
  cause?: unknown;
}

export class FerryError extends Error {
  constructor(
    /** Stable identifier, `<feature>.<name>`; never shown to clients (Vault's body has no code). */
    public readonly code: string,
    public readonly kind: ErrorKind,
    /** The `errors` array Vault answers with; may be empty (Vault's bare 404). */
    public readonly errors: string[],
    options: FerryErrorOptions = {},
  ) {
    super(errors.join('; ') || code, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'FerryError';
    this.data = options.data;
  }

  public readonly data?: Record<string, unknown>;
}

/**
 * Declares one catalogue entry: a factory that builds the error from its arguments, so the
 * code and kind are written once and every throw site reads as a name (`kvErrors.casMismatch()`).
 */
export function defineError<A extends unknown[]>(
  code: string,
  kind: ErrorKind,
  message: (...args: A) => string | string[],
): (...args: A) => FerryError {
  return (...args: A) => {
    const m = message(...args);
    return new FerryError(code, kind, Array.isArray(m) ? m : [m]);
  };
}

/** Vault answers every authentication and authorisation failure with this text. */
export const permissionDenied = defineError('auth.permission_denied', 'denied', () => 'permission denied');
/** Missing items are a 404 with an empty errors list, as Vault answers them. */
export const notFound = (code = 'request.not_found'): FerryError => new FerryError(code, 'missing', []);
export const unsupportedPath = defineError('request.unsupported_path', 'missing', () => 'unsupported path');
export const noHandler = defineError(
  'request.no_handler',
  'missing',
  (path: string) => `no handler for route "${path}". route entry not found.`,
);
export const unsupportedOperation = defineError('request.unsupported_operation', 'unsupported_operation', () => 'unsupported operation');
/** A verb the path does not take at all (Vault's bare 405). */
export const methodNotAllowed = (): FerryError => new FerryError('request.method_not_allowed', 'unsupported_operation', []);
export const sealed = defineError('seal.sealed', 'unavailable', () => 'Vault is sealed');
export const payloadTooLarge = defineError('request.too_large', 'too_large', () => 'http: request body too large');
export const internalError = (cause?: unknown): FerryError =>
  new FerryError('internal', 'internal', ['internal error'], { cause });
/**
 * A field whose input does not convert to its type. Vault quotes the input; Ferry names only
 * the field, because any field may be handed a secret (a value pasted into the wrong field, a
 * KV payload sent as a string) and this text reaches the client, the logs and the audit log
 * unhashed.
 */
export const fieldValidation = defineError(
  'request.field_validation',
  'invalid',
  (field: string, reason: string) => `Field validation failed: error converting input for field "${field}": ${reason}`,
);
