import { generateKeyPairSync } from 'node:crypto';
import { expect } from 'vitest';
import { startTestServer, type TestServer } from '../support/app.js';
import { logicalSnapshot } from '../support/store-snapshot.js';
import type { FuzzRoute } from './routes.js';

/** A public key for the JWT method's config (no JWKS URL: the fuzz makes no outside calls). */
const FUZZ_JWT_KEY = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }).toString();

/** The policy of the fuzz's limited token: some grants, some denies, across the API. */
export const LIMITED_POLICY = `
path "secret/data/app/*" { capabilities = ["create", "read", "update", "patch", "list"] }
path "secret/metadata/*" { capabilities = ["read", "list"] }
path "secret/+/app/private" { capabilities = ["deny"] }
path "team/kv/*" { capabilities = ["read"] }
path "kv1/*" { capabilities = ["create", "read", "update", "delete", "list"] }
path "sys/policies/acl/*" { capabilities = ["read", "list", "create", "update"] }
path "sys/policies/acl/admin" { capabilities = ["deny"] }
path "sys/sync/destinations/*" { capabilities = ["read", "list"] }
path "sys/mounts" { capabilities = ["read"] }
path "auth/token/create" { capabilities = ["update"] }
path "identity/oidc/key/*" { capabilities = ["read", "list"] }
path "auth/approle/role/*" { capabilities = ["read", "list", "update"] }
path "auth/userpass/users/+" { capabilities = ["read"] }
path "sys/auth" { capabilities = ["read"] }
`;

/**
 * A dev server with something of everything to aim at — KV v2 mounts (one nested), a KV v1
 * mount, secrets, policies, a limited token, an audit device (every request is hashed for
 * it), a sync destination with an association (the worker is not running: nothing leaves the
 * process), a named OIDC key — and the means to keep it usable while a fuzz run throws
 * requests at it: a request that seals it, or revokes one of its tokens, is legitimate, and
 * is undone before the next one.
 */
export class FuzzFixture {
  private snapshot: string | undefined;

  private constructor(
    readonly t: TestServer,
    public limitedToken: string,
    public limitedAccessor: string,
    readonly rootAccessor: string,
  ) {}

  /**
   * A fixture for fuzzing `route`. The userpass user is created only for the routes that can
   * reach it (userpass's own and sys/auth's): its password hash is a deliberate ~0.3 s of scrypt,
   * which on all 143 routes would be a third of the fuzz's CPU time.
   */
  static async start(route?: FuzzRoute): Promise<FuzzFixture> {
    const t = await startTestServer();
    const ok = async (method: string, path: string, body?: unknown) => {
      const res = await t.call(method, path, { body });
      expect(res.statusCode, `${method} ${path}: ${res.body}`).toBeLessThan(300);
      return res.statusCode === 204 ? undefined : res.json();
    };
    await ok('PUT', '/v1/sys/audit/discard', { type: 'file', options: { file_path: 'discard' } });
    await ok('POST', '/v1/sys/mounts/team/kv', { type: 'kv-v2' });
    await ok('POST', '/v1/sys/mounts/kv1', { type: 'kv', options: { version: '1' } });
    await ok('PUT', '/v1/secret/data/app/db', { data: { password: 'fuzz-password', port: 5432 } });
    await ok('PUT', '/v1/secret/data/app/private', { data: { key: 'private' } });
    await ok('PUT', '/v1/team/kv/data/x', { data: { a: { b: ['c'] } } });
    await ok('PUT', '/v1/kv1/a', { v: '1' });
    await ok('PUT', '/v1/sys/policies/acl/admin', { policy: 'path "*" { capabilities = ["sudo", "read", "update", "create", "delete", "list"] }' });
    await ok('PUT', '/v1/sys/policies/acl/fuzz-limited', { policy: LIMITED_POLICY });
    await ok('PUT', '/v1/sys/sync/destinations/aws-sm/dest1', {
      access_key_id: 'AKIAFERRYFUZZ0000001',
      secret_access_key: 'fuzz-secret-access-key',
      region: 'us-east-1',
      endpoint_url: 'http://127.0.0.1:9',
    });
    await ok('PUT', '/v1/sys/sync/destinations/aws-sm/dest1/associations/set', { mount: 'secret', secret_name: 'app/db' });
    await ok('POST', '/v1/identity/oidc/key/fuzzkey', { algorithm: 'ES256' });
    // Auth methods, each with something to log in as.
    for (const type of ['approle', 'userpass', 'jwt']) await ok('POST', `/v1/sys/auth/${type}`, { type });
    await ok('POST', '/v1/auth/approle/role/ci', { token_policies: ['default'], secret_id_num_uses: 5 });
    if (route === undefined || /userpass|^\/sys\/auth/.test(route.template)) {
      await ok('POST', '/v1/auth/userpass/users/alice', { password: 'fuzz-password', token_policies: ['default'] });
    }
    await ok('POST', '/v1/auth/jwt/config', { jwt_validation_pubkeys: [FUZZ_JWT_KEY] });
    await ok('POST', '/v1/auth/jwt/role/ci', { role_type: 'jwt', user_claim: 'sub', bound_audiences: ['ferry'], token_policies: ['default'] });
    const rootAccessor = (await ok('GET', '/v1/auth/token/lookup-self')).data.accessor as string;
    const fixture = new FuzzFixture(t, '', '', rootAccessor);
    await fixture.newLimitedToken();
    return fixture;
  }

  private async newLimitedToken(): Promise<void> {
    const res = await this.t.call('POST', '/v1/auth/token/create', { body: { policies: ['fuzz-limited'], ttl: '768h' } });
    expect(res.statusCode, res.body).toBe(200);
    this.limitedToken = res.json().auth.client_token;
    this.limitedAccessor = res.json().auth.accessor;
  }

  /** The store's logical contents (see `logicalSnapshot`), as one comparable string; cached until `changed()`. */
  async contents(): Promise<string> {
    this.snapshot ??= JSON.stringify(await logicalSnapshot(this.t.server.core.store));
    return this.snapshot;
  }

  /** Says the store may have changed (an accepted request). */
  changed(): void {
    this.snapshot = undefined;
  }

  /** Undoes what a legitimate request did to the fixture's usability: a seal, a revoked token. */
  async repair(): Promise<'ok' | 'replace'> {
    const core = this.t.server.core;
    if (core.seal.status().sealed) {
      const res = await this.t.call('PUT', '/v1/sys/unseal', { token: null, body: { key: this.t.server.devUnsealKey } });
      expect(res.json().sealed, res.body).toBe(false);
      this.changed();
    }
    if (!(await core.tokens.lookup(this.t.rootToken))) return 'replace';
    if (!(await core.tokens.lookup(this.limitedToken))) {
      await this.newLimitedToken();
      this.changed();
    }
    return 'ok';
  }

  close(): Promise<void> {
    return this.t.close();
  }
}
