import type { Readable } from 'node:stream';
import { payloadTooLarge } from '../kernel/errors.js';
import { requestErrors } from './errors.js';
import { JsonLimitScanner, type JsonLimits } from './json-limits.js';

export interface BodyLimits {
  /** `max_request_size`: the most bytes a body may have. */
  maxBytes: number;
  json: JsonLimits;
}

/**
 * Reads a request body as it arrives, checking each chunk against the size limit and the JSON
 * limits (`json-limits.ts`) before keeping it; the first breach ends the read with its coded
 * error (413 for the size, 400 with Vault's message for a JSON limit) without waiting for the
 * rest. The answer goes out at once; what the client still sends of a body over a JSON limit
 * is read and dropped (up to `maxBytes` in all, within the listener's read timeout) so that the
 * connection stays usable and the client sees the answer rather than a reset — closing a
 * socket with unread bytes makes the kernel send RST, which can destroy an answer in flight.
 */
export function readBody(
  payload: Readable,
  declaredLength: number | undefined,
  limits: BodyLimits,
  done: (err: Error | null, body?: Buffer) => void,
): void {
  if (declaredLength !== undefined && declaredLength > limits.maxBytes) {
    payload.resume();
    done(payloadTooLarge());
    return;
  }
  const scanner = new JsonLimitScanner(limits.json);
  const chunks: Buffer[] = [];
  let received = 0;
  let finished = false;
  const finish = (err: Error | null, body?: Buffer) => {
    if (finished) return;
    finished = true;
    payload.off('data', onData);
    payload.off('end', onEnd);
    payload.off('error', onError);
    if (err) discardRest(payload, received, limits.maxBytes);
    done(err, body);
  };
  const onData = (chunk: Buffer) => {
    received += chunk.length;
    if (received > limits.maxBytes) return finish(payloadTooLarge());
    const breach = scanner.push(chunk);
    if (breach) return finish(requestErrors.jsonLimit(breach));
    chunks.push(chunk);
  };
  const onEnd = () => finish(null, chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, received));
  const onError = (err: Error) => finish(err);
  payload.on('data', onData);
  payload.on('end', onEnd);
  payload.on('error', onError);
}

/** Reads and drops the rest of a refused body; past `maxBytes` in all, the connection is cut. */
function discardRest(payload: Readable, received: number, maxBytes: number): void {
  let total = received;
  payload.on('data', (chunk: Buffer) => {
    total += chunk.length;
    if (total > maxBytes) (payload as Readable & { socket?: { destroy(): void } }).socket?.destroy();
  });
  payload.on('error', () => undefined);
  payload.resume();
}
