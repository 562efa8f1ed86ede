import { clearToken, currentToken } from './session';

/** An answer of Ferry's API other than 2xx: its status and Vault's `errors` strings. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly errors: string[],
  ) {
    super(errors.join('; ') || `HTTP ${status}`);
  }
}

export interface CallOptions {
  method?: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  body?: unknown;
  query?: Record<string, string>;
  /** Send no token (sign-in, seal status). */
  anonymous?: boolean;
  /** Send this token instead of the session's (checking a token before keeping it). */
  token?: string;
}

/**
 * Encodes one segment of an API path. `.` and `..` are refused: `fetch` resolves them, so a
 * crafted link (`/ui/secret?mount=secret&path=../../sys/policies/acl/x`) would send the signed-in
 * token's request to another API path than the page says.
 */
export function encodeSegment(segment: string): string {
  if (segment === '.' || segment === '..') throw new Error(`“${segment}” is not a valid name or path segment.`);
  return encodeURIComponent(segment);
}

/** Encodes each segment of a path, keeping its slashes (dot segments refused: `encodeSegment`). */
export const encodePath = (path: string) => path.split('/').map(encodeSegment).join('/');

/**
 * One call to Ferry's `/v1` API — the only server the UI talks to. Never cached (`no-store`:
 * secret values must not land in the HTTP cache), the token in `X-Vault-Token`, merge-patch for
 * PATCH. A 403 on `auth/token/lookup-self` ends the session.
 */
export async function call<T = any>(path: string, opts: CallOptions = {}): Promise<T> {
  const method = opts.method ?? 'GET';
  const headers: Record<string, string> = { 'X-Vault-Request': 'true' };
  const token = opts.token ?? currentToken();
  if (token && !opts.anonymous) headers['X-Vault-Token'] = token;
  if (opts.body !== undefined) headers['Content-Type'] = method === 'PATCH' ? 'application/merge-patch+json' : 'application/json';
  const query = opts.query ? `?${new URLSearchParams(opts.query).toString()}` : '';
  const res = await fetch(`/v1/${path}${query}`, {
    method,
    headers,
    cache: 'no-store',
    credentials: 'omit',
    body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
  });
  const text = await res.text();
  let json: any;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  if (!res.ok) {
    const errors: string[] = Array.isArray(json?.errors) ? json.errors.map(String) : [];
    if (res.status === 403 && opts.token === undefined && token) {
      if (path === 'auth/token/lookup-self') clearToken('Your session has ended: the token is no longer valid. Sign in again.');
      else recheckSession();
    }
    throw new ApiError(res.status, errors);
  }
  return json as T;
}

let lastRecheck = 0;

/**
 * A 403 elsewhere may be a policy saying no, or a token revoked or expired meanwhile: ask
 * lookup-self (at most every 5 s), whose 403 ends the session (in `call`).
 */
function recheckSession(): void {
  if (Date.now() - lastRecheck < 5000) return;
  lastRecheck = Date.now();
  call('auth/token/lookup-self').catch(() => undefined);
}

/** `GET …?list=true` (Vault's LIST); an empty list for a 404, which is how Vault says "nothing". */
export async function list(path: string): Promise<{ keys: string[]; key_info?: Record<string, any> }> {
  try {
    const res = await call(path, { query: { list: 'true' } });
    return { keys: res?.data?.keys ?? [], key_info: res?.data?.key_info };
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) return { keys: [] };
    throw err;
  }
}

/** The calling token's capabilities on each path (`sys/capabilities-self`). */
export async function capabilities(paths: string[]): Promise<Record<string, string[]>> {
  if (paths.length === 0) return {};
  const res = await call('sys/capabilities-self', { method: 'POST', body: { paths } });
  const out: Record<string, string[]> = {};
  for (const p of paths) out[p] = (res?.data?.[p] ?? res?.[p] ?? []) as string[];
  return out;
}

/** Whether a capability list allows a write (POST/PUT) to a path that exists or not. */
export const canWrite = (caps: string[] | undefined) => !!caps && (caps.includes('root') || caps.includes('update') || caps.includes('create'));
export const canUpdate = (caps: string[] | undefined) => !!caps && (caps.includes('root') || caps.includes('update'));
export const canCreate = (caps: string[] | undefined) => !!caps && (caps.includes('root') || caps.includes('create'));
export const canDelete = (caps: string[] | undefined) => !!caps && (caps.includes('root') || caps.includes('delete'));
export const canRead = (caps: string[] | undefined) => !!caps && (caps.includes('root') || caps.includes('read'));
export const canList = (caps: string[] | undefined) => !!caps && (caps.includes('root') || caps.includes('list'));

/** A message for an error, for display. */
export function describeError(err: unknown): string {
  if (err instanceof ApiError) {
    if (err.status === 403) return `Permission denied${err.errors.length && err.errors[0] !== 'permission denied' ? `: ${err.errors.join('; ')}` : ''}.`;
    if (err.status === 503) return 'Ferry is sealed or unavailable.';
    return err.errors.join('; ') || `The request failed (HTTP ${err.status}).`;
  }
  return err instanceof Error ? err.message : String(err);
}
export const canPatch = (caps: string[] | undefined) => !!caps && (caps.includes('root') || caps.includes('patch'));
