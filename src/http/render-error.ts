import type { Logger } from 'pino';
import { FerryError, internalError, type ErrorKind } from '../kernel/errors.js';
import { JSON_HEADERS, type WireResponse } from './wire.js';

/** The one mapping from an error's kind to the HTTP status Vault answers it with. */
const STATUS_OF: Record<ErrorKind, number> = {
  invalid: 400,
  denied: 403,
  missing: 404,
  conflict: 409,
  unsupported_operation: 405,
  too_large: 413,
  unsupported_media_type: 415,
  unavailable: 503,
  internal: 500,
};

export function statusOf(err: FerryError): number {
  return STATUS_OF[err.kind];
}

/** The kind for a status another library decided (Fastify's own 4xx answers). */
export function kindOfStatus(status: number): ErrorKind {
  const found = (Object.entries(STATUS_OF) as [ErrorKind, number][]).find(([, s]) => s === status);
  return found ? found[0] : 'invalid';
}

/** Vault's `{"errors": [...]}` body for a coded error. */
export function errorResponse(err: FerryError, extraHeaders: Record<string, string> = {}): WireResponse {
  const body: Record<string, unknown> = { errors: err.errors };
  if (err.data) body.data = err.data;
  return { status: statusOf(err), headers: { ...JSON_HEADERS, ...extraHeaders }, body: JSON.stringify(body) };
}

/**
 * The one place an unexpected failure becomes a response: a `FerryError` is rendered as is;
 * anything else is a bug, logged with its cause chain and answered with a bare 500 that
 * reveals nothing internal.
 */
export function renderFailure(err: unknown, log: Logger, extraHeaders: Record<string, string> = {}): WireResponse {
  if (err instanceof FerryError && err.kind !== 'internal') return errorResponse(err, extraHeaders);
  log.error({ err: err instanceof FerryError && err.cause !== undefined ? err.cause : err }, 'request failed with an internal error');
  return errorResponse(internalError(), extraHeaders);
}
