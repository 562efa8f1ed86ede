import type { Destination } from './model.js';

/**
 * The destination settings that decide where credentials, values and signed tokens go, or whose
 * AWS identity is used: the operator's (`sudo` on the destination's path), not every `sys/sync`
 * writer's. A deliberate departure from Vault, which has no endpoint overrides and lets any
 * writer use the server's ambient credentials: without it, a user allowed to edit a destination
 * but not to read a secret could point the destination at their own listener and receive the
 * next value, the access key id and a Ferry-signed identity token, or sync with the server's
 * own AWS identity.
 */

/** Whether a destination authenticates as the server itself: no access keys and no web identity (a role, if any, is assumed with the server's credentials). */
export function usesServerIdentity(d: Destination): boolean {
  return d.connection.access_key_id === '' && d.connection.identity_token_audience === '';
}

/**
 * What a write changes that only a sudo holder may change, in words for the 403: setting or
 * changing `endpoint_url` or `sts_endpoint_url`, and creating or changing a destination so that
 * it uses the server's own AWS identity (a new destination, keys or web identity removed, or the
 * role or external id it assumes with that identity changed).
 */
export function operatorChanges(existing: Destination | undefined, next: Destination): string[] {
  const before = existing?.connection;
  const after = next.connection;
  const changes: string[] = [];
  if (after.endpoint_url !== (before?.endpoint_url ?? '')) changes.push('setting endpoint_url');
  if (after.sts_endpoint_url !== (before?.sts_endpoint_url ?? '')) changes.push('setting sts_endpoint_url');
  if (
    usesServerIdentity(next) &&
    (!existing || !usesServerIdentity(existing) || before!.role_arn !== after.role_arn || before!.external_id !== after.external_id)
  ) {
    changes.push("using the server's own AWS identity (no access keys and no identity_token_audience)");
  }
  return changes;
}

/** Whether a destination sends anything to an endpoint other than AWS's own. */
export const hasEndpointOverride = (d: Destination): boolean => d.connection.endpoint_url !== '' || d.connection.sts_endpoint_url !== '';

/**
 * Whether `url` lies under one of the server configuration's `sync.allowed_endpoint_prefixes`:
 * the same scheme, host and port, and a path equal to the prefix's or below it (at a `/`), so
 * that `https://sm.example.com` does not admit `https://sm.example.com.evil.net` nor
 * `http://127.0.0.1:4566` admit `http://127.0.0.1:45660`. An empty list admits everything.
 */
export function endpointAllowed(url: string, prefixes: readonly string[]): boolean {
  if (prefixes.length === 0) return true;
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    return false;
  }
  return prefixes.some((prefix) => {
    const p = new URL(prefix);
    if (p.protocol !== target.protocol || p.hostname !== target.hostname || p.port !== target.port) return false;
    const base = p.pathname.replace(/\/+$/, '');
    return base === '' || target.pathname === base || target.pathname.startsWith(`${base}/`);
  });
}
