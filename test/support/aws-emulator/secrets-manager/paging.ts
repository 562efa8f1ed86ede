/**
 * Opaque, validated pagination tokens (moto's bare decimal offsets are pitfall #16): an offset
 * bound to the request's parameters and MACed with a per-emulator key, so a forged, truncated or
 * re-used-with-other-filters token is an InvalidNextTokenException.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { smErrors } from './errors.js';

export class PageTokens {
  private readonly key = randomBytes(32);

  private mac(payload: string): Buffer {
    return createHmac('sha256', this.key).update(payload).digest();
  }

  encode(offset: number, params: unknown): string {
    const payload = Buffer.from(JSON.stringify({ o: offset, p: fingerprint(params) })).toString('base64url');
    return `${payload}.${this.mac(payload).toString('base64url')}`;
  }

  /** The offset a token stands for; throws InvalidNextTokenException when it is not ours or not for these params. */
  decode(token: string, params: unknown): number {
    const [payload, mac, extra] = token.split('.');
    if (payload === undefined || mac === undefined || extra !== undefined) throw smErrors.invalidNextToken();
    const given = Buffer.from(mac, 'base64url');
    const expected = this.mac(payload);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw smErrors.invalidNextToken();
    const decoded = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { o: number; p: string };
    if (decoded.p !== fingerprint(params)) throw smErrors.invalidNextToken();
    return decoded.o;
  }
}

function fingerprint(params: unknown): string {
  return createHash('sha256').update(JSON.stringify(params ?? null)).digest('base64url').slice(0, 16);
}

/** Slices `items` for one page; `next` is the offset of the following page, if any. */
export function page<T>(items: T[], offset: number, size: number): { items: T[]; next?: number } {
  const slice = items.slice(offset, offset + size);
  return offset + size < items.length ? { items: slice, next: offset + size } : { items: slice };
}
