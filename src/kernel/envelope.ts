import type { LogicalResponse } from './request.js';

/** The envelope every logical response is wrapped in, in Vault's key order. */
export function envelope(
  requestId: string,
  mountType: string,
  res: Pick<LogicalResponse, 'data' | 'warnings' | 'auth'>,
): Record<string, unknown> {
  return {
    request_id: requestId,
    lease_id: '',
    renewable: false,
    lease_duration: 0,
    data: res.data ?? null,
    wrap_info: null,
    warnings: res.warnings && res.warnings.length > 0 ? res.warnings : null,
    auth: res.auth ?? null,
    mount_type: mountType,
  };
}

/**
 * `JSON.stringify(text)`, without its cost for text that needs no escape — printable ASCII
 * without `"` or `\`, as a request id and a mount type are: every answer carries both, and
 * the generic stringifier costs several times the loop.
 */
export function jsonString(text: string): string {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x22 /* " */ || c === 0x5c /* \ */) return JSON.stringify(text);
  }
  return `"${text}"`;
}

/**
 * `JSON.stringify(envelope(requestId, mountType, res))` when `data` is already serialised as
 * `dataJson`: an answer whose data is unchanged since it was last rendered (a hot secret's
 * read) reuses that JSON. Same keys, same order, same bytes (`envelope.test.ts` holds it to that).
 */
export function envelopeJson(requestId: string, mountType: string, dataJson: string, res: Pick<LogicalResponse, 'warnings' | 'auth'>): string {
  return envelopeHead(requestId) + envelopeTail(mountType, dataJson, res);
}

/** The envelope's JSON up to its request id: what differs between two answers of the same data. */
export function envelopeHead(requestId: string): string {
  return `{"request_id":${jsonString(requestId)}`;
}

/**
 * The envelope's JSON after its request id (`envelopeJson` is the head and this): the same for
 * every answer of the same data, warnings, auth and mount type, so it can be made once.
 */
export function envelopeTail(mountType: string, dataJson: string, res: Pick<LogicalResponse, 'warnings' | 'auth'>): string {
  const warnings = res.warnings && res.warnings.length > 0 ? JSON.stringify(res.warnings) : 'null';
  const auth = res.auth === undefined || res.auth === null ? 'null' : JSON.stringify(res.auth);
  return (
    `,"lease_id":"","renewable":false,"lease_duration":0,"data":${dataJson},` +
    `"wrap_info":null,"warnings":${warnings},"auth":${auth},"mount_type":${jsonString(mountType)}}`
  );
}
