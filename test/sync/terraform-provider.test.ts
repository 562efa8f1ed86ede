import { describe, expect, it } from 'vitest';
import { waitUntil } from '../support/process.js';
import { TEST_ACCESS_KEY, TEST_SECRET_KEY, useSyncScenario, type SyncScenario } from '../support/sync.js';
import { VAULT_VERSION, providerParse, providerSupports, type ProviderVersion } from '../support/terraform.js';

/**
 * terraform-provider-vault's requests for `vault_secrets_sync_config`,
 * `vault_secrets_sync_aws_destination` and `vault_secrets_sync_association`, replayed over a
 * socket as its Go client (hashicorp/vault `api`) sends them, from the provider's source:
 *
 * - `internal/provider/meta.go`: the version probe (`GET sys/seal-status`, `version.NewSemver`,
 *   `IsAPISupported`), `lookup-self` and the limited child token every later request uses.
 * - `vault/resource_secrets_sync_aws_destination.go` and `internal/sync/secrets_sync.go`: the
 *   write fields by version (base, `awsSync119Fields`, `awsSync200WriteFields`, and 2.1.0's
 *   `kms_key_id` / `replica_regions` per the provider's acceptance tests in
 *   `vault/resource_secrets_sync_aws_destination_test.go`), sent only when set (`d.GetOk`),
 *   sets as lists; `Logical().Write` is a PUT; the read takes each field from
 *   `connection_details` or `options`, `granularity` from `granularity_level`.
 * - `vault/resource_secrets_sync_association.go`: `associations/set` and `/remove` with
 *   `{secret_name, mount}`; the read fetches the mount's accessor (`GET sys/mounts/:mount`,
 *   `util/mountutil`) and keeps the `associated_secrets` entries of that accessor and secret.
 * - `vault/resource_secrets_sync_config.go`: `Logical().JSONMergePatch` (PATCH,
 *   `application/merge-patch+json`), read, and DELETE to reset.
 *
 * The provider's code itself is not copied; each step below says what the provider does.
 */

interface GoClient {
  /** A request as the Go `api` client makes it: X-Vault-Token, X-Vault-Request, JSON body, no Content-Type. */
  send(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; body: any }>;
}

function goClient(url: string, token: () => string): GoClient {
  return {
    send: async (method, path, body, headers = {}) => {
      const res = await fetch(`${url}/v1/${path}`, {
        method,
        headers: { 'X-Vault-Token': token(), 'X-Vault-Request': 'true', 'User-Agent': 'Go-http-client/1.1', ...headers },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : undefined };
    },
  };
}

/** Provider start-up (`meta.go`): the token is looked up, then a limited child token is created and used from then on. */
async function configureProvider(s: SyncScenario): Promise<{ client: GoClient; version: ProviderVersion }> {
  let token = 'root';
  const client = goClient(s.url, () => token);
  const self = await client.send('GET', 'auth/token/lookup-self');
  expect(self.status).toBe(200);
  expect(self.body.data.namespace_path ?? '').toBe('');
  // api.TokenCreateRequest as the provider fills it: display_name, ttl = explicit_max_ttl = max_lease_ttl_seconds (1200), not renewable.
  const child = await client.send('POST', 'auth/token/create', {
    ttl: '1200s',
    explicit_max_ttl: '1200s',
    display_name: 'terraform',
    num_uses: 0,
    renewable: false,
    type: '',
    entity_alias: '',
  });
  expect(child.status, JSON.stringify(child.body)).toBe(200);
  token = child.body.auth.client_token;
  // getVaultVersion: GET sys/seal-status, then version.Must(version.NewSemver(resp.Version)) — a malformed one panics.
  const status = await client.send('GET', 'sys/seal-status');
  expect(status.status).toBe(200);
  return { client, version: providerParse(status.body.version) };
}

/** `MountCreateContextWrapper(..., VaultVersion116)`: create proceeds only on 1.16 or later. */
function createGate(version: ProviderVersion): void {
  if (!providerSupports(version, VAULT_VERSION.v116)) {
    throw new Error(`feature not enabled on current Vault version. min version required=${VAULT_VERSION.v116}; current vault version=${version.version}`);
  }
}

/** The fields the aws destination writes and reads at this server version (`awsSecretsSyncDestinationCreateUpdate`). */
function awsDestinationFields(version: ProviderVersion): { write: string[]; read: string[] } {
  const write = ['access_key_id', 'secret_access_key', 'granularity', 'region', 'custom_tags', 'secret_name_template', 'role_arn', 'external_id'];
  const read = ['region', 'custom_tags', 'granularity', 'secret_name_template', 'role_arn', 'external_id'];
  if (providerSupports(version, VAULT_VERSION.v119)) {
    const networking = ['allowed_ipv4_addresses', 'allowed_ipv6_addresses', 'allowed_ports', 'disable_strict_networking'];
    write.push(...networking);
    read.push(...networking);
  }
  if (providerSupports(version, VAULT_VERSION.v200)) {
    write.push('identity_token_audience', 'identity_token_ttl', 'identity_token_key');
    read.push('identity_token_ttl');
  }
  if (providerSupports(version, VAULT_VERSION.v210)) {
    write.push('kms_key_id', 'replica_regions');
    read.push('kms_key_id', 'replica_regions');
  }
  return { write, read };
}

/** `d.GetOk` semantics: zero values (false, 0, "", empty collections) are not "set" and are not sent. */
function writeBody(config: Record<string, unknown>, writeFields: string[]): Record<string, unknown> {
  const isSet = (v: unknown) =>
    v !== undefined && v !== null && v !== false && v !== 0 && v !== '' && !(Array.isArray(v) && v.length === 0) && !(typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 0);
  return Object.fromEntries(writeFields.filter((k) => isSet(config[k])).map((k) => [k, config[k]]));
}

/** `SyncDestinationRead`: each field from `connection_details`, then `options` (which wins), through the key remap. */
function readState(data: any, readFields: string[], remap: Record<string, string>): Record<string, unknown> {
  const state: Record<string, unknown> = { name: data.name };
  for (const k of readFields) {
    const vaultKey = remap[k] ?? k;
    if (data.connection_details && vaultKey in data.connection_details) state[k] = data.connection_details[vaultKey];
    if (data.options && vaultKey in data.options) state[k] = data.options[vaultKey];
  }
  return state;
}

/** The association read: the mount's accessor, then the matching `associated_secrets` entries (else the provider errors). */
async function readAssociation(client: GoClient, name: string, mount: string, secret: string) {
  const m = await client.send('GET', `sys/mounts/${mount}`);
  expect(m.status).toBe(200);
  expect(m.body.data, 'data from server response is empty').toBeTruthy();
  const accessor: string = m.body.data.accessor;
  const res = await client.send('GET', `sys/sync/destinations/aws-sm/${name}/associations`);
  expect(res.status).toBe(200);
  const matching = Object.values<any>(res.body.data.associated_secrets).filter((e) => e.secret_name === secret && e.accessor === accessor);
  if (matching.length === 0) throw new Error(`no associated secrets found for given mount accessor and secret name ${accessor}/${secret}`);
  return {
    accessor,
    sync_status: matching.map((e) => e.sync_status as string),
    updated_at: matching.map((e) => e.updated_at as string),
    subkeys: matching.map((e) => e.sub_key as string | undefined).filter((k): k is string => !!k),
  };
}

const KMS = 'arn:aws:kms:us-east-1:123456789012:key/12345678-1234-1234-1234-123456789012';
const REPLICAS = {
  'us-east-2': 'arn:aws:kms:us-east-2:123456789012:key/mrk-1234567890abcdef1234567890abcdef',
  'us-west-1': 'arn:aws:kms:us-west-1:123456789012:key/mrk-1234567890abcdef1234567890abcdef',
};

describe('terraform-provider-vault against Ferry: version gate, config and destinations', () => {
  const s = useSyncScenario('drained');
  it('passes the provider’s version gate with every field on: 1.16 create, 1.19 networking, 2.0 workload identity, 2.1 KMS and replicas', async () => {
    const { version } = await configureProvider(s);
    expect(() => createGate(version)).not.toThrow();
    const { write, read } = awsDestinationFields(version);
    expect(write).toEqual(expect.arrayContaining(['allowed_ports', 'identity_token_audience', 'kms_key_id', 'replica_regions']));
    expect(read).toEqual(expect.arrayContaining(['disable_strict_networking', 'identity_token_ttl', 'kms_key_id', 'replica_regions']));
  });

  it('vault_secrets_sync_config: create (merge patch), read, update, delete', async () => {
    const { client, version } = await configureProvider(s);
    const patch = (body: unknown) => client.send('PATCH', 'sys/sync/config', body, { 'Content-Type': 'application/merge-patch+json' });
    const read = async () => {
      const res = await client.send('GET', 'sys/sync/config');
      expect(res.status).toBe(200);
      return { disabled: res.body.data.disabled, queue_capacity: res.body.data.queue_capacity };
    };
    createGate(version);
    // `disabled` is always sent; `queue_capacity` when set.
    expect((await patch({ disabled: false, queue_capacity: 500000 })).status).toBe(200);
    expect(await read()).toEqual({ disabled: false, queue_capacity: 500000 });
    expect((await patch({ disabled: true, queue_capacity: 250000 })).status).toBe(200);
    expect(await read()).toEqual({ disabled: true, queue_capacity: 250000 });
    expect((await client.send('DELETE', 'sys/sync/config')).status).toBe(204);
    expect(await read()).toEqual({ disabled: false, queue_capacity: 1000000 });
  });

  it('vault_secrets_sync_aws_destination with static keys: create, read back every field, update, import read, delete, refresh', async () => {
    const { client, version } = await configureProvider(s);
    const { write, read } = awsDestinationFields(version);
    const remap = { granularity: 'granularity_level' };
    const path = 'sys/sync/destinations/aws-sm/tf-dest';
    const apply = async (config: Record<string, unknown>) => {
      const body = writeBody(config, write);
      const res = await client.send('PUT', path, body);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      const after = await client.send('GET', path);
      expect(after.status).toBe(200);
      return { body, state: readState(after.body.data, read, remap) };
    };

    createGate(version);
    const initial = {
      name: 'tf-dest',
      access_key_id: TEST_ACCESS_KEY,
      secret_access_key: TEST_SECRET_KEY,
      region: 'us-east-1',
      granularity: 'secret-path',
      secret_name_template: 'vault/{{ .MountAccessor }}/{{ .SecretPath }}',
      custom_tags: { foo: 'bar' },
      role_arn: 'arn:aws:iam::123456789012:role/test-role',
      external_id: 'external-id-test',
      allowed_ipv4_addresses: ['192.168.1.0/24', '10.0.0.0/8'],
      allowed_ipv6_addresses: ['2001:db8::/32'],
      allowed_ports: [443, 8200],
      disable_strict_networking: false,
      kms_key_id: KMS,
      replica_regions: REPLICAS,
    };
    const created = await apply(initial);
    // Every field the configuration sets is sent (disable_strict_networking=false is a zero value: not sent).
    expect(Object.keys(created.body).sort()).toEqual(Object.keys(initial).filter((k) => k !== 'name' && k !== 'disable_strict_networking').sort());
    // ...and every non-sensitive one reads back as written, so the plan shows no drift.
    const expected = (config: Record<string, unknown>) =>
      Object.fromEntries(['name', ...read].filter((k) => k in config && k !== 'identity_token_ttl').map((k) => [k, config[k]]));
    expect(created.state).toEqual(expected(initial));

    const updated = {
      ...initial,
      granularity: 'secret-key',
      secret_name_template: 'VAULT_{{ .MountAccessor | uppercase }}_{{ .SecretPath | uppercase }}_{{ .SecretKey | uppercase }}',
      custom_tags: { baz: 'bux' },
      role_arn: 'arn:aws:iam::123456789012:role/updated-role',
      external_id: 'external-id-updated',
      allowed_ipv4_addresses: ['172.16.0.0/12'],
      allowed_ports: [443],
      disable_strict_networking: true,
      replica_regions: { 'us-west-1': REPLICAS['us-west-1'] },
    };
    const changed = await apply(updated);
    expect(changed.body.disable_strict_networking).toBe(true);
    // A PUT of the whole configuration replaces maps: the removed tag and replica are gone.
    expect(changed.state).toEqual(expected(updated));

    // `terraform import` is the same read with the ID (the name) alone.
    expect(readState((await client.send('GET', path)).body.data, read, remap)).toEqual(changed.state);
    expect((await client.send('DELETE', path)).status).toBe(204);
    // The refresh after a delete: a 404 (no data) means "gone", removed from state.
    const gone = await client.send('GET', path);
    expect(gone.status).toBe(404);
    expect(gone.body.data).toBeUndefined();
  });

  it('vault_secrets_sync_aws_destination with workload identity: the 2.0 fields are written and identity_token_ttl reads back', async () => {
    const { client, version } = await configureProvider(s);
    const { write, read } = awsDestinationFields(version);
    const config = {
      name: 'tf-wif',
      region: 'us-east-1',
      granularity: 'secret-path',
      role_arn: 'arn:aws:iam::123456789012:role/wif',
      identity_token_audience: 'ferry.example.com/v1/identity/oidc/secrets-sync',
      identity_token_key: 'default',
      identity_token_ttl: 7200,
    };
    createGate(version);
    const body = writeBody(config, write);
    expect(body).toMatchObject({ identity_token_audience: config.identity_token_audience, identity_token_key: 'default', identity_token_ttl: 7200 });
    const res = await client.send('PUT', 'sys/sync/destinations/aws-sm/tf-wif', body);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const state = readState((await client.send('GET', 'sys/sync/destinations/aws-sm/tf-wif')).body.data, read, { granularity: 'granularity_level' });
    expect(state).toMatchObject({ region: 'us-east-1', granularity: 'secret-path', role_arn: config.role_arn, identity_token_ttl: 7200 });
    // Masked on read, as the provider expects ("masked by Vault on read"): never echoed back.
    expect(JSON.stringify(state)).not.toContain(config.identity_token_audience);
  });

});

describe('terraform-provider-vault against Ferry: associations, with the sync worker running', () => {
  const s = useSyncScenario('running');

  it('vault_secrets_sync_association: create, read (mount accessor + associations), then terraform destroy (remove, delete destination)', async () => {
    const { client, version } = await configureProvider(s);
    const { write } = awsDestinationFields(version);
    // vault_mount and vault_kv_secret_v2, as the provider writes them (api.MountInput; Logical().Write).
    const mount = await client.send('POST', 'sys/mounts/tf-kv', {
      type: 'kv-v2',
      description: '',
      config: { options: null, default_lease_ttl: '0s', max_lease_ttl: '0s', force_no_cache: false },
      local: false,
      seal_wrap: false,
      external_entropy_access: false,
      options: null,
    });
    expect(mount.status).toBe(204);
    expect((await client.send('PUT', 'tf-kv/data/app', { data: { user: 'u', pass: 'p' } })).status).toBe(200);
    createGate(version);
    const dest = await client.send(
      'PUT',
      'sys/sync/destinations/aws-sm/tf-dest',
      writeBody({ access_key_id: TEST_ACCESS_KEY, secret_access_key: TEST_SECRET_KEY, region: 'us-east-1', granularity: 'secret-key', custom_tags: { team: 'sre' } }, write),
    );
    expect(dest.status).toBe(200);
    // Not a provider request: this test environment's AWS is the emulator (Ferry's endpoint_url).
    expect((await s.cli('PATCH', 'sys/sync/destinations/aws-sm/tf-dest', { endpoint_url: s.emu.endpoint })).status).toBe(200);

    // Create: associations/set; the ID is built from the inputs, the response body is not used.
    const set = await client.send('PUT', 'sys/sync/destinations/aws-sm/tf-dest/associations/set', { secret_name: 'app', mount: 'tf-kv' });
    expect(set.status).toBe(200);
    const id = `aws-sm/dest/tf-dest/mount/tf-kv/secret/app`;
    expect(/^(.+)\/dest\/(.+)\/mount\/(.+)\/secret\/(.+)$/.exec(id)!.slice(1)).toEqual(['aws-sm', 'tf-dest', 'tf-kv', 'app']);
    // Read: what terraform stores, once the worker has synced both keys.
    const state = await waitUntil('the association SYNCED', async () => {
      const r = await readAssociation(client, 'tf-dest', 'tf-kv', 'app');
      return r.sync_status.every((st) => st === 'SYNCED') ? r : undefined;
    });
    expect(state.accessor).toBe(s.server.core.mounts.get('tf-kv/')!.accessor);
    expect(state.subkeys.sort()).toEqual(['pass', 'user']);
    for (const at of state.updated_at) expect(new Date(at).toString()).not.toBe('Invalid Date');

    // terraform destroy: the association first, then the destination, at once.
    expect((await client.send('PUT', 'sys/sync/destinations/aws-sm/tf-dest/associations/remove', { secret_name: 'app', mount: 'tf-kv' })).status).toBe(200);
    expect((await client.send('DELETE', 'sys/sync/destinations/aws-sm/tf-dest')).status).toBe(204);
    expect(s.emu.listSecretNames('us-east-1')).toEqual([]);
    // vault_mount's destroy, then its refresh: Vault's "mount not found" answer, which mountutil recognises.
    expect((await client.send('DELETE', 'sys/mounts/tf-kv')).status).toBe(204);
    const refreshed = await client.send('GET', 'sys/mounts/tf-kv');
    expect(refreshed.status).toBe(400);
    expect(refreshed.body.errors[0]).toContain('No secret engine mount at');
  });
});
