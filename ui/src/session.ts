/**
 * The signed-in token. It lives in sessionStorage only (gone when the tab closes, never shared
 * with other tabs or sent anywhere but Ferry's `X-Vault-Token` header), and is cleared on sign-out
 * or when `auth/token/lookup-self` answers 403.
 */
const KEY = 'ferry.token';
const listeners = new Set<() => void>();

export function currentToken(): string | null {
  return sessionStorage.getItem(KEY);
}

export function setToken(token: string): void {
  sessionStorage.setItem(KEY, token);
  for (const l of listeners) l();
}

/** Forgets the token; `reason` is shown on the sign-in page. */
export function clearToken(reason?: string): void {
  sessionStorage.removeItem(KEY);
  endedReason = reason;
  for (const l of listeners) l();
}

let endedReason: string | undefined;

/** Why the last session ended (shown once on the sign-in page). */
export function takeEndedReason(): string | undefined {
  const r = endedReason;
  endedReason = undefined;
  return r;
}

export function onSessionChange(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}
