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
  const read = new BodyRead(payload, limits, done);
  payload.on('data', read.onData);
  payload.on('end', read.onEnd);
  payload.on('error', read.onError);
}

/**
 * One body being read. A class whose listeners are its methods bound, rather than closures:
 * every write reads a body, and under tsx each named closure made per request also costs a
 * property definition (its `name`), about a microsecond each.
 */
class BodyRead {
  readonly onData: (chunk: Buffer) => void;
  readonly onEnd: () => void;
  readonly onError: (err: Error) => void;
  private readonly scanner: JsonLimitScanner;
  private readonly chunks: Buffer[] = [];
  private received = 0;
  private finished = false;

  constructor(
    private readonly payload: Readable,
    private readonly limits: BodyLimits,
    private readonly done: (err: Error | null, body?: Buffer) => void,
  ) {
    this.scanner = new JsonLimitScanner(limits.json);
    this.onData = this.data.bind(this);
    this.onEnd = this.end.bind(this);
    this.onError = this.finish.bind(this);
  }

  private data(chunk: Buffer): void {
    this.received += chunk.length;
    if (this.received > this.limits.maxBytes) return this.finish(payloadTooLarge());
    const breach = this.scanner.push(chunk);
    if (breach) return this.finish(requestErrors.jsonLimit(breach));
    this.chunks.push(chunk);
  }

  private end(): void {
    this.finish(null, this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.received));
  }

  private finish(err: Error | null, body?: Buffer): void {
    if (this.finished) return;
    this.finished = true;
    this.payload.off('data', this.onData);
    this.payload.off('end', this.onEnd);
    this.payload.off('error', this.onError);
    if (err) discardRest(this.payload, this.received, this.limits.maxBytes);
    this.done(err, body);
  }
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
