import { policyRefusalIn } from '../network-policy.js';
import { DeliveryError } from '../port.js';

interface AwsLikeError {
  name?: string;
  message?: string;
  code?: string;
  $fault?: 'client' | 'server';
  $metadata?: { httpStatusCode?: number };
  cause?: unknown;
}

const THROTTLING = new Set([
  'ThrottlingException',
  'Throttling',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'SlowDown',
  'ThrottledException',
  'ProvisionedThroughputExceededException',
  'PriorRequestNotComplete',
]);
const NETWORK = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_SOCKET']);
const TIMEOUTS = new Set(['TimeoutError', 'RequestTimeout', 'RequestTimeoutException', 'AbortError']);
const AUTH = new Set([
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'IncompleteSignatureException',
  'MissingAuthenticationTokenException',
  'AccessDeniedException',
  'AccessDenied',
  'InvalidClientTokenId',
  'SignatureDoesNotMatch',
]);

/**
 * Provider error texts go into association statuses and logs, so they are cut to their
 * first line and scrubbed of anything credential-shaped: some AWS signature errors quote
 * the canonical request, which can carry a session token.
 */
export function sanitiseProviderMessage(message: string | undefined): string {
  const first = (message ?? 'unknown error').split(/\r?\n/)[0]!.slice(0, 500);
  return first
    .replace(/\b(AKIA|ASIA)[A-Z0-9]{12,}\b/g, '[access-key]')
    .replace(/x-amz-security-token[:=]\s*\S+/gi, 'x-amz-security-token:[redacted]')
    .replace(/\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/g, '[token]')
    .replace(/(signature|credential)=[^,\s]+/gi, '$1=[redacted]');
}

/**
 * A connection strict networking refused (`network-policy.ts`): final, since only a change of
 * the destination (its allowed_* fields, or disable_strict_networking) makes it possible.
 */
export function networkPolicyError(err: unknown, context: string): DeliveryError | undefined {
  const refusal = policyRefusalIn(err);
  if (!refusal) return undefined;
  return new DeliveryError(
    'final',
    'CLIENT_SIDE_ERROR',
    'StrictNetworking',
    `${context}: ${refusal.message}; a destination's allowed_ipv4_addresses, allowed_ipv6_addresses and allowed_ports widen what it may reach, and disable_strict_networking turns the checks off`,
  );
}

function networkCode(err: unknown, depth = 0): string | undefined {
  if (!err || typeof err !== 'object' || depth > 10) return undefined;
  const e = err as AwsLikeError;
  if (e.code && NETWORK.has(e.code)) return e.code;
  return networkCode(e.cause, depth + 1);
}

/**
 * Classifies an AWS SDK error once, for every call the adapter makes: throttling and
 * transient faults are retried by the worker with backoff; everything else is a final
 * error shown on the association. Messages carry the AWS code and text, never a value.
 */
export function classifyAwsError(err: unknown, context: string): DeliveryError {
  if (err instanceof DeliveryError) return err;
  const refused = networkPolicyError(err, context);
  if (refused) return refused;
  const e = (err ?? {}) as AwsLikeError;
  const name = e.name ?? 'Error';
  const status = e.$metadata?.httpStatusCode;
  const text = `${context}: ${name}: ${sanitiseProviderMessage(e.message)}`;
  if (THROTTLING.has(name) || status === 429) return new DeliveryError('throttled', 'PENDING', name, text);
  const net = networkCode(err);
  if (net) return new DeliveryError('unavailable', 'EXTERNAL_SERVICE_ERROR', net, `${context}: cannot reach the endpoint (${net})`);
  if (TIMEOUTS.has(name)) return new DeliveryError('unavailable', 'EXTERNAL_SERVICE_ERROR', name, text);
  if (name === 'ExpiredTokenException' || name === 'ExpiredToken' || name === 'RequestExpired') {
    return new DeliveryError('transient', 'CLIENT_SIDE_ERROR', name, text);
  }
  if (name === 'CredentialsProviderError') {
    return new DeliveryError('final', 'CLIENT_SIDE_ERROR', name, `${context}: no AWS credentials: give access keys, or role_arn with identity_token_audience`);
  }
  if (status === 501) return new DeliveryError('final', 'EXTERNAL_SERVICE_ERROR', name, text);
  if ((status !== undefined && status >= 500) || e.$fault === 'server') {
    return new DeliveryError('unavailable', 'EXTERNAL_SERVICE_ERROR', name, text);
  }
  if (AUTH.has(name)) return new DeliveryError('final', 'CLIENT_SIDE_ERROR', name, text);
  if (name === 'LimitExceededException') return new DeliveryError('final', 'EXTERNAL_SERVICE_ERROR', name, text);
  if (status !== undefined && status >= 400) return new DeliveryError('final', 'CLIENT_SIDE_ERROR', name, text);
  return new DeliveryError('transient', 'EXTERNAL_SERVICE_ERROR', name, text);
}
