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
