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
 * `JSON.stringify(envelope(requestId, mountType, res))` when `data` is already serialised as
 * `dataJson`: an answer whose data is unchanged since it was last rendered (a hot secret's
 * read) reuses that JSON. Same keys, same order, same bytes (`envelope.test.ts` holds it to that).
 */
export function envelopeJson(requestId: string, mountType: string, dataJson: string, res: Pick<LogicalResponse, 'warnings' | 'auth'>): string {
  const warnings = res.warnings && res.warnings.length > 0 ? JSON.stringify(res.warnings) : 'null';
  return (
    `{"request_id":${JSON.stringify(requestId)},"lease_id":"","renewable":false,"lease_duration":0,"data":${dataJson},` +
    `"wrap_info":null,"warnings":${warnings},"auth":${JSON.stringify(res.auth ?? null)},"mount_type":${JSON.stringify(mountType)}}`
  );
}
