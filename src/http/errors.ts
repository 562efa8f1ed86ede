import { FerryError, defineError, type ErrorKind } from '../kernel/errors.js';
import { JSON_LIMIT_MESSAGES, type JsonLimitBreach } from './json-limits.js';

/** The code of a body refused for one of the listener's JSON limits. */
export const JSON_LIMIT_CODE = 'request.json_limit';

/**
 * The wire layer's and the request pipeline's own errors: a request Vault would refuse for its
 * form rather than for a rule of some feature. The shared entries (`notFound`, `sealed`,
 * `permissionDenied`, …) live in `kernel/errors.ts`.
 */
export const requestErrors = {
  badJson: defineError('request.bad_json', 'invalid', () => 'error parsing JSON'),
  /**
   * A body over one of the listener's JSON limits: Vault's message, but a 400 where Vault
   * answers 500 — the body is at fault, not the server.
   */
  jsonLimit: defineError(JSON_LIMIT_CODE, 'invalid', (breach: JsonLimitBreach) => JSON_LIMIT_MESSAGES[breach]),
  badPercentEncoding: defineError('request.bad_percent_encoding', 'invalid', () => 'invalid percent-encoding in path'),
  unknownNamespace: defineError(
    'request.unknown_namespace',
    'invalid',
    (namespace: string) =>
      `namespace "${namespace}" does not exist: Ferry serves only the root namespace (X-Vault-Namespace must be empty or "root")`,
  ),
  /** `?list=` with a value Go's ParseBool refuses: Vault's bare 400. */
  invalidListFlag: defineError('request.invalid_list_flag', 'invalid', () => []),
  patchContentType: defineError(
    'request.patch_content_type',
    'unsupported_media_type',
    (provided: string) => `PATCH requires Content-Type of application/merge-patch+json, provided ${provided}`,
  ),
  /** `X-Vault-Wrap-TTL` that does not parse, with Vault's wording. */
  badWrapTtl: defineError('request.bad_wrap_ttl', 'invalid', (reason: string) => `error parsing X-Vault-Wrap-TTL header: ${reason}`),
  /**
   * A request for response wrapping: Ferry has no cubbyhole to keep wrapped responses in, and
   * answering unwrapped would hand the secret to a client that expects only a wrapping token.
   */
  wrappingUnsupported: defineError(
    'request.wrapping_unsupported',
    'invalid',
    () => 'response wrapping is not supported by Ferry: send the request without X-Vault-Wrap-TTL (vault CLI: without -wrap-ttl or VAULT_WRAP_TTL)',
  ),
  /** A 4xx Fastify decided before the dispatcher ran, with Fastify's own message. */
  rejected: (kind: ErrorKind, message: string) => new FerryError('request.rejected', kind, [message]),
};
