import fs from 'node:fs';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { tempDirForTest, useTestServer } from '../support/fixtures.js';
import { tokenWithPolicy } from '../security/support.js';
import { TEST_ACCESS_KEY, TEST_SECRET_KEY } from '../support/sync.js';

/** The sys/sync API through app.inject, with the worker stopped: rules, shapes and bad input. */
const t = useTestServer();
beforeEach(async () => {
  await t.call('POST', '/v1/sys/mounts/my-kv', { body: { type: 'kv-v2' } });
  await t.call('PUT', '/v1/my-kv/data/app/db', { body: { data: { username: 'u', password: 'p' } } });
});

const dest = (extra: Record<string, unknown> = {}) => ({
  access_key_id: TEST_ACCESS_KEY,
  secret_access_key: TEST_SECRET_KEY,
  region: 'us-east-1',
  ...extra,
});
const pendingSyncOps = async () => (await t.server.core.store.pendingOutbox('sync')).length;
const destinationKeys = async () => (await t.server.core.store.list('sync/destinations/aws-sm/')).length;

describe('sys/sync/destinations/aws-sm/:name', () => {
  it('creates a destination and reads it back with credentials masked and options filled in', async () => {
    const res = await t.call('PUT', '/v1/sys/sync/destinations/aws-sm/prod', { body: dest({ custom_tags: 'team=sre', granularity: 'secret-key' }) });
    expect(res.statusCode).toBe(200);
    const read = await t.call('GET', '/v1/sys/sync/destinations/aws-sm/prod');
    expect(read.statusCode).toBe(200);
    expect(read.json().mount_type).toBe('system');
    expect(read.json().data).toEqual({
      name: 'prod',
      type: 'aws-sm',
      connection_details: { access_key_id: '*****', secret_access_key: '*****', region: 'us-east-1' },
      options: {
        custom_tags: { team: 'sre' },
        granularity_level: 'secret-key',
        secret_name_template: 'vault/{{ .MountAccessor }}/{{ .SecretPath }}/{{ .SecretKey }}',
        disable_strict_networking: false,
      },
    });
    expect(read.body).not.toContain(TEST_SECRET_KEY);
    expect(read.body).not.toContain(TEST_ACCESS_KEY);
  });

  it('keeps fields a later write does not name, and treats a masked value sent back as unchanged', async () => {
    await t.call('PUT', '/v1/sys/sync/destinations/aws-sm/prod', { body: dest({ role_arn: 'arn:aws:iam::123456789012:role/sync', external_id: 'ext-1' }) });
    await t.call('PUT', '/v1/sys/sync/destinations/aws-sm/prod', { body: { secret_access_key: '*****', external_id: 'ext-2' } });
    const stored = await t.server.sync.service.getDestination('aws-sm', 'prod');
    expect(stored!.connection).toMatchObject({ secret_access_key: TEST_SECRET_KEY, role_arn: 'arn:aws:iam::123456789012:role/sync', external_id: 'ext-2' });
  });

  it('applies a JSON merge patch: null resets a field, custom tag members set to null are removed', async () => {
    await t.call('PUT', '/v1/sys/sync/destinations/aws-sm/prod', { body: dest({ custom_tags: { a: '1', b: '2' }, external_id: 'x' }) });
    const res = await t.call('PATCH', '/v1/sys/sync/destinations/aws-sm/prod', {
      body: { custom_tags: { a: null, c: '3' }, external_id: null },
      headers: { 'content-type': 'application/merge-patch+json' },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json().data.options.custom_tags).toEqual({ b: '2', c: '3' });
    expect(res.json().data.connection_details.external_id).toBeUndefined();
  });

  it('merge-patches replica_regions: a member set to null is removed, the others stay', async () => {
    await t.call('PUT', '/v1/sys/sync/destinations/aws-sm/prod', { body: dest({ replica_regions: { 'us-west-2': '', 'eu-west-1': 'arn:aws:kms:eu-west-1:123456789012:key/k' } }) });
    const res = await t.call('PATCH', '/v1/sys/sync/destinations/aws-sm/prod', {
      body: { replica_regions: { 'us-west-2': null } },
      headers: { 'content-type': 'application/merge-patch+json' },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json().data.connection_details.replica_regions).toEqual({ 'eu-west-1': 'arn:aws:kms:eu-west-1:123456789012:key/k' });
  });

  it('lists destinations by type with key_info and totals, and 404 when there are none', async () => {
    expect((await t.call('GET', '/v1/sys/sync/destinations?list=true')).statusCode).toBe(404);
    await t.call('PUT', '/v1/sys/sync/destinations/aws-sm/b', { body: dest() });
    await t.call('PUT', '/v1/sys/sync/destinations/aws-sm/a', { body: dest() });
    const all = await t.call('GET', '/v1/sys/sync/destinations?list=true');
    expect(all.json().data).toEqual({ keys: ['aws-sm/'], key_info: { 'aws-sm/': ['a', 'b'] }, total_destinations: 2 });
    const typed = await t.call('GET', '/v1/sys/sync/destinations/aws-sm?list=true');
    expect(typed.json().data).toEqual({ keys: ['a', 'b'], total_destinations: 2 });
  });

  it('refuses to move role_arn to another AWS account', async () => {
    await t.call('PUT', '/v1/sys/sync/destinations/aws-sm/prod', { body: dest({ role_arn: 'arn:aws:iam::111111111111:role/a' }) });
    const same = await t.call('PUT', '/v1/sys/sync/destinations/aws-sm/prod', { body: { role_arn: 'arn:aws:iam::111111111111:role/b' } });
    expect(same.statusCode).toBe(200);
    const other = await t.call('PUT', '/v1/sys/sync/destinations/aws-sm/prod', { body: { role_arn: 'arn:aws:iam::222222222222:role/b' } });
    expect(other.statusCode).toBe(400);
    expect(other.json().errors[0]).toMatch(/must stay in AWS account 111111111111/);
  });

  it('answers 404 for a destination that does not exist', async () => {
    const res = await t.call('GET', '/v1/sys/sync/destinations/aws-sm/nope');
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ errors: [] });
  });

  it('accepts the activation-flag endpoints Vault Enterprise scripts call', async () => {
    const activate = await t.call('PUT', '/v1/sys/activation-flags/secrets-sync/activate', { body: null });
    expect(activate.statusCode).toBe(200);
    expect(activate.json().data).toEqual({ activated: ['secrets-sync'], unactivated: [] });
    expect((await t.call('GET', '/v1/sys/activation-flags', { token: null })).json().data.activated).toContain('secrets-sync');
  });

  it('reads and merge-patches sys/sync/config, accepting string-typed booleans', async () => {
    expect((await t.call('GET', '/v1/sys/sync/config')).json().data).toEqual({ disabled: false, queue_capacity: 1000000, reconcile_interval: 300, write_budget_per_second: 45 });
    const res = await t.call('PATCH', '/v1/sys/sync/config', { body: { disabled: 'true' }, headers: { 'content-type': 'application/merge-patch+json' } });
    expect(res.json().data).toEqual({ disabled: true, queue_capacity: 1000000, reconcile_interval: 300, write_budget_per_second: 45 });
  });

  it("takes Ferry's reconcile_interval as a duration (0 = off, at least 1s), reads it back in seconds, and refuses anything else with a 400", async () => {
    const patch = (body: Record<string, unknown>) =>
      t.call('PATCH', '/v1/sys/sync/config', { body, headers: { 'content-type': 'application/merge-patch+json' } });
    expect((await patch({ reconcile_interval: '2s' })).json().data.reconcile_interval).toBe(2);
    expect((await patch({ reconcile_interval: 0 })).json().data.reconcile_interval).toBe(0);
    expect((await patch({ reconcile_interval: '1h' })).json().data.reconcile_interval).toBe(3600);
    for (const bad of ['500ms', '-1s', 'soon', '0.5']) {
      const res = await patch({ reconcile_interval: bad });
      expect(res.statusCode, bad).toBe(400);
      expect(res.json().errors[0]).toMatch(/reconcile_interval|invalid duration/);
    }
    expect((await t.call('GET', '/v1/sys/sync/config')).json().data.reconcile_interval).toBe(3600);
    await t.call('DELETE', '/v1/sys/sync/config');
    expect((await t.call('GET', '/v1/sys/sync/config')).json().data.reconcile_interval).toBe(300);
  });
});

describe('bad destination input creates nothing', () => {
  const cases: Array<[string, string, Record<string, unknown>, RegExp]> = [
    ['unknown destination type', 'gcp-xx/x', dest(), /invalid destination type "gcp-xx"/],
    ['a Vault type Ferry does not support', 'gh/x', dest(), /not supported by Ferry/],
    ['missing region', 'aws-sm/x', { access_key_id: TEST_ACCESS_KEY, secret_access_key: TEST_SECRET_KEY }, /missing required field "region"/],
    ['a template producing an invalid name', 'aws-sm/x', dest({ secret_name_template: '{{ .SecretKey }}' }), /cannot be made a valid AWS Secrets Manager name/],
    ['an unparseable template', 'aws-sm/x', dest({ secret_name_template: '{{ .Nope }}' }), /invalid secret_name_template: unknown field .Nope/],
    ['WIF mixed with static keys', 'aws-sm/x', dest({ role_arn: 'arn:aws:iam::123456789012:role/r', identity_token_audience: 'aud' }), /mutually exclusive/],
    ['an audience without role_arn', 'aws-sm/x', { region: 'us-east-1', identity_token_audience: 'aud' }, /requires role_arn/],
    ['an invalid granularity', 'aws-sm/x', dest({ granularity: 'secret-everything' }), /invalid granularity/],
    ['a reserved tag', 'aws-sm/x', dest({ custom_tags: { 'aws:owner': 'me' } }), /reserved prefix/],
    ["Ferry's owner tag", 'aws-sm/x', dest({ custom_tags: { 'ferry:owner': 'me' } }), /custom tag key "ferry:owner" is reserved/],
    [
      'more custom tags than fit beside the two Ferry sets',
      'aws-sm/x',
      dest({ custom_tags: Object.fromEntries(Array.from({ length: 49 }, (_, i) => [`t${i}`, 'v'])) }),
      /too many custom_tags: AWS allows 50 tags per secret, two of which are hashicorp:vault and ferry:owner/,
    ],
    ['one key without the other', 'aws-sm/x', { access_key_id: TEST_ACCESS_KEY, region: 'us-east-1' }, /must be given together/],
    ['a negative identity_token_ttl', 'aws-sm/x', dest({ identity_token_ttl: '-5' }), /identity_token_ttl/],
  ];
  it('refuses every verb on a destination of a type Ferry does not sync to, naming the supported type', async () => {
    const mergePatch = { 'content-type': 'application/merge-patch+json' };
    const answers = [
      await t.call('GET', '/v1/sys/sync/destinations/gh/x'),
      await t.call('PUT', '/v1/sys/sync/destinations/gh/x', { body: dest() }),
      await t.call('PATCH', '/v1/sys/sync/destinations/gh/x', { body: dest(), headers: mergePatch }),
      await t.call('DELETE', '/v1/sys/sync/destinations/gh/x?purge=true'),
      await t.call('GET', '/v1/sys/sync/destinations/gh/x/associations'),
    ];
    for (const res of answers) {
      expect(res.statusCode).toBe(400);
      expect(res.json()).toEqual({ errors: ['destination type "gh" is not supported by Ferry; supported types: aws-sm'] });
    }
    // Field checks still come first where they did: a PATCH's bad field is named before the type.
    const badField = await t.call('PATCH', '/v1/sys/sync/destinations/nope/x', { body: { identity_token_ttl: 'soon' }, headers: mergePatch });
    expect(badField.json().errors[0]).toMatch(/Field validation failed: .* for field "identity_token_ttl"/);
  });

  for (const [rule, path, body, message] of cases) {
    it(`refuses ${rule}`, async () => {
      const res = await t.call('PUT', `/v1/sys/sync/destinations/${path}`, { body });
      expect(res.statusCode).toBe(400);
      expect(res.json().errors[0]).toMatch(message);
      expect(await destinationKeys()).toBe(0);
    });
  }
});

describe('name templates', () => {
  /** Every template example of Vault's secrets-sync docs, the Terraform provider's docs and the spec (secrets-sync.md §4.4, §7.2). */
  const examples: Array<[string, string]> = [
    ['vault/{{ .MountAccessor }}/{{ .SecretPath }}', 'secret-path'],
    ['prefix-{{ .SecretPath }}', 'secret-path'],
    ['{{ .SecretBaseName | uppercase }}', 'secret-path'],
    ['{{ .SecretPath | replace "/" "_" }}', 'secret-path'],
    ['vault_{{ .MountAccessor | lowercase }}_{{ .SecretPath | lowercase }}', 'secret-path'],
    ['VAULT_{{ .MountAccessor | uppercase }}_{{ .SecretPath | uppercase }}', 'secret-path'],
    ['vault-{{ .MountAccessor | replace "_" "-" }}-{{ .SecretPath }}', 'secret-path'],
    ['{{ .MountAccessor }}_{{ .SecretKey }}', 'secret-key'],
    ['prod/{{ .MountBaseName }}/{{ .SecretPath }}/{{ .SecretKey }}', 'secret-key'],
    ['vault/{{ .MountAccessor }}/{{ .SecretPath }}/{{ .SecretKey }}', 'secret-key'],
    ['{{ .NamespacePath }}{{ .MountPath }}/{{ .SecretPath }}', 'secret-path'],
    ['{{ .DestinationType }}/{{ .DestinationName }}/{{ .SecretPath }}', 'secret-path'],
  ];
  it("accepts every template example of Vault's docs and the spec", async () => {
    for (const [template, granularity] of examples) {
      const res = await t.call('PUT', '/v1/sys/sync/destinations/aws-sm/examples', { body: dest({ secret_name_template: template, granularity }) });
      expect([template, res.statusCode]).toEqual([template, 200]);
    }
  });

  const doublings = (n: number) => `vault/{{ .SecretPath${' | replace "e" "ee"'.repeat(n)} }}`;

  it('refuses a template over the rendering budget when the destination is written, and stores nothing', async () => {
    const res = await t.call('PUT', '/v1/sys/sync/destinations/aws-sm/x', { body: dest({ secret_name_template: `{{ "${'e'.repeat(10 * 1024)}"${' | replace "e" "ee"'.repeat(10)} }}` }) });
    expect(res.statusCode).toBe(400);
    expect(res.json().errors).toEqual([
      'invalid secret_name_template: rendering it would produce more than 65536 characters (all its actions together); Ferry bounds the work of rendering a name',
    ]);
    expect(await destinationKeys()).toBe(0);
  });

  it('refuses an association whose secret the template cannot name within the budget, and queues nothing', async () => {
    expect((await t.call('PUT', '/v1/sys/sync/destinations/aws-sm/x', { body: dest({ secret_name_template: doublings(6) }) })).statusCode).toBe(200);
    const long = `app/${'e'.repeat(10 * 1024)}`;
    expect((await t.call('PUT', `/v1/my-kv/data/${long}`, { body: { data: { a: '1' } } })).statusCode).toBe(200);
    const res = await t.call('PUT', '/v1/sys/sync/destinations/aws-sm/x/associations/set', { body: { mount: 'my-kv', secret_name: long } });
    expect(res.statusCode).toBe(400);
    expect(res.json().errors[0]).toBe(
      'secret_name_template cannot name this secret: rendering it would produce more than 65536 characters (all its actions together); Ferry bounds the work of rendering a name',
    );
    expect(await pendingSyncOps()).toBe(0);
    // The same template names an ordinary secret.
    expect((await t.call('PUT', '/v1/sys/sync/destinations/aws-sm/x/associations/set', { body: { mount: 'my-kv', secret_name: 'app/db' } })).statusCode).toBe(200);
  });
});

describe('associations', () => {
  beforeEach(async () => {
    await t.call('PUT', '/v1/sys/sync/destinations/aws-sm/prod', { body: dest() });
  });

  it('sets an association keyed by accessor/secret with a PENDING status and one queued operation', async () => {
    const res = await t.call('PUT', '/v1/sys/sync/destinations/aws-sm/prod/associations/set', { body: { mount: 'my-kv/', secret_name: 'app/db' } });
    expect(res.statusCode).toBe(200);
    const accessor = t.server.core.mounts.get('my-kv/')!.accessor;
    expect(res.json().data).toEqual({
      associated_secrets: {
        [`${accessor}/app/db`]: {
          accessor,
          secret_name: 'app/db',
          sync_status: 'PENDING',
          updated_at: expect.any(String),
          mount: 'my-kv/',
          external_name: `vault/${accessor}/app/db`,
          attempts: 0,
        },
      },
      store_name: 'prod',
      store_type: 'aws-sm',
    });
    expect(await pendingSyncOps()).toBe(1);
    const list = await t.call('GET', '/v1/sys/sync/associations?list=true');
    expect(list.json().data).toEqual({
      keys: ['my-kv/app/db'],
      key_info: { 'my-kv/app/db': [{ mount: 'my-kv/', secret_path: 'app/db' }] },
      total_associations: 1,
      total_secrets: 1,
    });
    const byQuery = await t.call('GET', '/v1/sys/sync/associations/destinations?mount=my-kv&secret_name=app/db');
    expect(byQuery.json().data.associated_destinations['aws-sm/prod']).toMatchObject({ type: 'aws-sm', name: 'prod', sync_status: 'PENDING' });
    const byPath = await t.call('GET', '/v1/sys/sync/associations/my-kv/app/db');
    expect(byPath.json().data).toEqual(byQuery.json().data);
  });

  it('lists one entry per top-level key with secret-key granularity', async () => {
    await t.call('PUT', '/v1/sys/sync/destinations/aws-sm/keys', { body: dest({ granularity: 'secret-key' }) });
    const res = await t.call('PUT', '/v1/sys/sync/destinations/aws-sm/keys/associations/set', { body: { mount: 'my-kv', secret_name: 'app/db' } });
    const entries = res.json().data.associated_secrets;
    const accessor = t.server.core.mounts.get('my-kv/')!.accessor;
    expect(Object.keys(entries).sort()).toEqual([`${accessor}/app/db/password`, `${accessor}/app/db/username`]);
    expect(entries[`${accessor}/app/db/password`].sub_key).toBe('password');
  });

  const bad: Array<[string, Record<string, unknown>, number, RegExp]> = [
    ['a missing mount', { mount: 'nope', secret_name: 'app/db' }, 400, /mount "nope\/" not found/],
    ['a missing secret', { mount: 'my-kv', secret_name: 'app/none' }, 400, /Secret not found/],
    ['a trailing slash in secret_name', { mount: 'my-kv', secret_name: 'app/' }, 400, /invalid secret_name/],
    ['a KV v1 mount', { mount: 'kv1', secret_name: 'a' }, 400, /KV version 1 mount/],
  ];
  for (const [rule, body, status, message] of bad) {
    it(`refuses an association to ${rule} and creates nothing`, async () => {
      await t.call('POST', '/v1/sys/mounts/kv1', { body: { type: 'kv' } });
      await t.call('PUT', '/v1/kv1/a', { body: { x: '1' } });
      const res = await t.call('PUT', '/v1/sys/sync/destinations/aws-sm/prod/associations/set', { body });
      expect(res.statusCode).toBe(status);
      expect(res.json().errors[0]).toMatch(message);
      expect(await pendingSyncOps()).toBe(0);
      expect(await t.server.core.store.list('sync/associations/')).toEqual([]);
    });
  }

  it('refuses an association to a destination that does not exist', async () => {
    const res = await t.call('PUT', '/v1/sys/sync/destinations/aws-sm/ghost/associations/set', { body: { mount: 'my-kv', secret_name: 'app/db' } });
    expect(res.statusCode).toBe(404);
    expect(await pendingSyncOps()).toBe(0);
  });

  it('refuses to disable a KV mount that still has associations, naming them', async () => {
    await t.call('PUT', '/v1/sys/sync/destinations/aws-sm/prod/associations/set', { body: { mount: 'my-kv', secret_name: 'app/db' } });
    const res = await t.call('DELETE', '/v1/sys/mounts/my-kv');
    expect(res.statusCode).toBe(400);
    expect(res.json().errors[0]).toMatch(/app\/db/);
    expect((await t.call('GET', '/v1/sys/mounts/my-kv')).statusCode).toBe(200);
  });
});

describe('sys/sync behind the ACL and the audit log', () => {
  it('answers a narrow token only where its policy grants, changes nothing it refuses, and audits every call', async () => {
    const file = path.join(tempDirForTest('ferry-sync-audit-'), 'audit.log');
    expect((await t.call('PUT', '/v1/sys/audit/file', { body: { type: 'file', options: { file_path: file } } })).statusCode).toBe(204);
    for (const name of ['mine', 'theirs']) expect((await t.call('PUT', `/v1/sys/sync/destinations/aws-sm/${name}`, { body: dest() })).statusCode).toBe(200);
    const token = await tokenWithPolicy(t, 'sync-mine', 'path "sys/sync/destinations/aws-sm/mine" { capabilities = ["read"] }');
    fs.writeFileSync(file, '');

    expect((await t.call('GET', '/v1/sys/sync/destinations/aws-sm/mine', { token })).statusCode).toBe(200);
    const refused: Array<[string, string, unknown?]> = [
      ['GET', 'sys/sync/destinations/aws-sm/theirs'],
      ['PUT', 'sys/sync/destinations/aws-sm/mine', { region: 'eu-west-1' }],
      ['DELETE', 'sys/sync/destinations/aws-sm/mine'],
      ['GET', 'sys/sync/destinations?list=true'],
      ['GET', 'sys/sync/destinations/aws-sm/mine/associations'],
      ['PUT', 'sys/sync/destinations/aws-sm/mine/associations/set', { mount: 'my-kv', secret_name: 'app/db' }],
      ['GET', 'sys/sync/associations?list=true'],
      ['GET', 'sys/sync/config'],
    ];
    for (const [method, p, body] of refused) {
      const res = await t.call(method, `/v1/${p}`, { token, body });
      expect([res.statusCode, res.json()], `${method} ${p}`).toEqual([403, { errors: ['permission denied'] }]);
    }
    const entries = fs
      .readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l));
    expect(entries.map((e) => [e.type, e.request.path, e.error ?? ''])).toEqual([
      ['request', 'sys/sync/destinations/aws-sm/mine', ''],
      ['response', 'sys/sync/destinations/aws-sm/mine', ''],
      ...refused.flatMap(([, p]) => [
        ['request', p.split('?')[0], 'permission denied'],
        ['response', p.split('?')[0], 'permission denied'],
      ]),
    ]);
    // Nothing a refused call asked for happened.
    expect((await t.call('GET', '/v1/sys/sync/destinations/aws-sm/mine')).json().data.connection_details.region).toBe('us-east-1');
    expect(await pendingSyncOps()).toBe(0);
  });
});
