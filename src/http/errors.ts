/**
 * The one catalogue of errors Ferry answers with. Domain code throws `VaultError`s; the
 * wire layer renders them as Vault's `{"errors":[...]}` body. Anything else that escapes
 * a handler is a bug: it is logged with its cause chain and answered with a bare 500
 * that reveals nothing internal.
 */
export class VaultError extends Error {
  constructor(
    public readonly status: number,
    public readonly errors: string[],
    /** Rare: Vault sometimes returns data alongside errors. */
    public readonly data?: Record<string, unknown>,
  ) {
    super(errors.join('; ') || `status ${status}`);
    this.name = 'VaultError';
  }
}

/** A 400 with one message: validation failures, CAS mismatches, conflicts. */
export const badRequest = (message: string): VaultError => new VaultError(400, [message]);
/** Vault answers every authentication and authorisation failure with this text. */
export const permissionDenied = (): VaultError => new VaultError(403, ['permission denied']);
/** Missing items are a 404 with an empty errors list, as Vault answers them. */
export const notFound = (): VaultError => new VaultError(404, []);
export const unsupportedPath = (): VaultError => new VaultError(404, ['unsupported path']);
export const noHandler = (path: string): VaultError =>
  new VaultError(404, [`no handler for route "${path}". route entry not found.`]);
export const unsupportedOperation = (): VaultError => new VaultError(405, ['unsupported operation']);
export const sealed = (): VaultError => new VaultError(503, ['Vault is sealed']);
export const payloadTooLarge = (): VaultError => new VaultError(413, ['http: request body too large']);
export const fieldValidation = (field: string, input: unknown, reason: string): VaultError =>
  badRequest(`Field validation failed: error converting input ${formatInput(input)} for field "${field}": ${reason}`);

function formatInput(input: unknown): string {
  if (typeof input === 'string') return input.length > 64 ? `${input.slice(0, 64)}…` : input;
  try {
    const text = JSON.stringify(input);
    return text.length > 64 ? `${text.slice(0, 64)}…` : text;
  } catch {
    return String(input);
  }
}
