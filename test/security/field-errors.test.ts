import { describe, expect, it } from 'vitest';
import { loadRoutes } from '../fuzz/routes.js';
import { startTestServer } from '../support/app.js';
import { closeAfterTest } from '../support/fixtures.js';

/** Looks like something a user could paste into the wrong field: a token, a password, a key. */
const SECRET = 'hvs.Pasted-Into-The-Wrong-Field.9f31c';

/**
 * Fields whose refusal names the value, as Vault's does, because the value is a name or a choice
 * (a type, a mount, a path) and never a credential. Every other field's refusal must not echo it.
 */
const ECHOING_FIELDS: Record<string, string[]> = {
  // Choices and names: "plugin not found in the catalog: <type>", "invalid 'token_type' value …",
  // "unknown signing algorithm …", "invalid region …", "invalid granularity …".
  type: ['/sys/mounts/{path}', '/sys/auth/{path}', '/sys/audit/{path}', '/auth/token/create', '/auth/token/create-orphan'],
  plugin_name: ['/sys/mounts/{path}', '/sys/auth/{path}'],
  token_type: ['*'],
  role_type: ['*'],
  bound_claims_type: ['*'],
  algorithm: ['/identity/oidc/key/{name}'],
  region: ['/sys/sync/destinations/aws-sm/{name}', '/sys/sync/destinations/{type}/{name}'],
  granularity: ['/sys/sync/destinations/aws-sm/{name}', '/sys/sync/destinations/{type}/{name}'],
  // Addresses: "error parsing address <x>: not an IP address or CIDR block".
  token_bound_cidrs: ['*'],
  bound_cidrs: ['*'],
  secret_id_bound_cidrs: ['*'],
  cidr_list: ['*'],
  // A policy document's parse error points at the offending token: it is the one way to find it.
  policy: ['/sys/policies/acl/{name}', '/sys/policy/{name}'],
  rules: ['/sys/policies/acl/{name}', '/sys/policy/{name}'],
  // Mount and secret names in the sync associations and prefixes ("mount <x> is not a KV v2 mount").
  mount: [
    '/sys/sync/destinations/{type}/{name}/associations/set',
    '/sys/sync/destinations/{type}/{name}/associations/remove',
    '/sys/sync/destinations/{type}/{name}/prefixes/set',
    '/sys/sync/destinations/{type}/{name}/prefixes/remove',
  ],
};

const echoes = (field: string, template: string) => ECHOING_FIELDS[field]?.some((t) => t === '*' || t === template) ?? false;

/** A path parameter's value that reaches the route: the mounts and the method mounts of the server below. */
function paramValue(name: string): string {
  if (name === 'kv_v2_mount_path') return 'secret';
  if (name === 'kv_v1_mount_path') return 'kv1';
  if (name === 'type') return 'aws-sm';
  if (name.endsWith('_mount_path')) return name.slice(0, -'_mount_path'.length);
  return 'x';
}

describe('field errors across the whole API', () => {
  it('never quote a refused value, for every body field of every operation in the OpenAPI document (names and types aside)', async () => {
    const t = closeAfterTest(await startTestServer());
    for (const [method, path, body] of [
      ['POST', '/v1/sys/mounts/kv1', { type: 'kv', options: { version: '1' } }],
      ['POST', '/v1/sys/auth/approle', { type: 'approle' }],
      ['POST', '/v1/sys/auth/userpass', { type: 'userpass' }],
      ['POST', '/v1/sys/auth/jwt', { type: 'jwt' }],
    ] as const) {
      expect((await t.call(method, path, { body })).statusCode, path).toBeLessThan(300);
    }
    const routes = loadRoutes().filter((r) => r.body !== undefined && Object.keys(r.body).length > 0);
    let refused = 0;
    const leaks: string[] = [];
    for (const route of routes) {
      const url = `/v1${route.template.replace(/\{([^}]+)\}/g, (_, name: string) => paramValue(name))}`;
      for (const field of Object.keys(route.body!)) {
        // The secret as the field's value, and inside the shapes list and map fields take.
        for (const value of [SECRET, [SECRET], { [SECRET]: SECRET }, `${SECRET}=${SECRET}`]) {
          const res = await t.call(route.method, url, {
            body: { [field]: value },
            headers: route.method === 'PATCH' ? { 'content-type': 'application/merge-patch+json' } : {},
          });
          expect(res.statusCode, `${route.key} ${field}`).toBeLessThan(500);
          if (res.statusCode < 400) continue;
          refused++;
          if (res.body.includes(SECRET.slice(4)) && !echoes(field, route.template)) leaks.push(`${route.key} ${field}=${JSON.stringify(value)} → ${res.statusCode} ${res.body}`);
        }
      }
    }
    expect(leaks).toEqual([]);
    // The sweep reached the field checks: most of these values are refused somewhere.
    expect(refused).toBeGreaterThan(200);
  });
});
