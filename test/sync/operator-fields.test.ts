import net from 'node:net';
import path from 'node:path';
import { Writable } from 'node:stream';
import { beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logging.js';
import { DEFAULT_TEMPLATE, type Destination } from '../../src/sync/model.js';
import { SyncRecords } from '../../src/sync/records.js';
import { initAndUnseal, startPersistent } from '../security/support.js';
import { startTestServer } from '../support/app.js';
import { SECOND } from '../support/clock.js';
import { closeAfterTest, tempDirForTest } from '../support/fixtures.js';
import { TEST_ACCESS_KEY, TEST_SECRET_KEY, useSyncScenario } from '../support/sync.js';

/**
 * Endpoints and the server's own AWS identity are the operator's: a user who may write
 * destinations but holds no `sudo` on them cannot point one anywhere, nor make it sync as the
 * server, and what they may change never redirects traffic. A capture listener on loopback
 * stands for the attacker's endpoint: nothing may ever reach it.
 */
const s = useSyncScenario('drained');
const AUDIENCE = 'ferry.test/v1/identity/oidc/secrets-sync';
/** An AWS account that is not the emulator's default one: the attacker's. */
const ATTACKER_ACCOUNT = '210987654321';

/** A loopback listener counting the connections it receives; closed after the test. */
async function captureListener(): Promise<{ url: string; connections: () => number }> {
  let connections = 0;
  const server = net.createServer((socket) => {
    connections++;
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closeAfterTest({ close: () => new Promise<void>((resolve) => server.close(() => resolve())) });
  return { url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`, connections: () => connections };
}

/** A token allowed everything on sys/sync/* except sudo, and to read and write the KV secrets it syncs. */
async function syncWriter(extraCapabilities: string[] = []): Promise<string> {
  const caps = JSON.stringify(['create', 'read', 'update', 'patch', 'delete', 'list', ...extraCapabilities]);
  const policy = `path "sys/sync/*" { capabilities = ${caps} }\npath "my-kv/data/*" { capabilities = ["create", "read", "update"] }\n`;
  expect((await s.cli('PUT', `sys/policies/acl/sync-writer-${extraCapabilities.length}`, { policy })).status).toBe(204);
  const res = await s.cli('POST', 'auth/token/create', { policies: [`sync-writer-${extraCapabilities.length}`] });
  return res.body.auth.client_token as string;
}

const keys = { access_key_id: TEST_ACCESS_KEY, secret_access_key: TEST_SECRET_KEY };
const sudoDenied = (name: string, what: string) =>
  `permission denied: ${what} needs the "sudo" capability on sys/sync/destinations/aws-sm/${name}, which this token does not have`;
const SERVER_IDENTITY = "using the server's own AWS identity (no access keys and no identity_token_audience)";

beforeEach(async () => {
  await s.cli('POST', 'sys/mounts/my-kv', { type: 'kv-v2' });
  await s.cli('PUT', 'my-kv/data/app', { data: { password: 'S3CRET' } });
});

describe('a user with every capability on sys/sync/* but sudo', () => {
  it('cannot set or change endpoint_url or sts_endpoint_url (POST, PATCH, new destination), make a destination use the server identity, or remove its keys', async () => {
    const capture = await captureListener();
    const user = await syncWriter();
    expect((await s.createDestination('team')).status).toBe(200); // root: endpoint_url at the emulator
    const refused: Array<[string, string, string, Record<string, unknown>, string]> = [
      ['POST endpoint_url', 'PUT', 'team', { endpoint_url: capture.url }, 'setting endpoint_url'],
      ['PATCH sts_endpoint_url', 'PATCH', 'team', { sts_endpoint_url: capture.url }, 'setting sts_endpoint_url'],
      ['PATCH both', 'PATCH', 'team', { endpoint_url: capture.url, sts_endpoint_url: capture.url }, 'setting endpoint_url and setting sts_endpoint_url'],
      ['endpoint_url removed', 'PATCH', 'team', { endpoint_url: null }, 'setting endpoint_url'],
      ['a new destination with an endpoint', 'PUT', 'mine', { ...keys, region: 'us-east-1', endpoint_url: capture.url }, 'setting endpoint_url'],
      ['a new destination without keys', 'PUT', 'ambient', { region: 'us-east-1' }, SERVER_IDENTITY],
      ['a new destination with a role and no keys', 'PUT', 'ambient-role', { region: 'us-east-1', role_arn: 'arn:aws:iam::123456789012:role/prod' }, SERVER_IDENTITY],
      ['its keys removed', 'PATCH', 'team', { access_key_id: null, secret_access_key: null }, SERVER_IDENTITY],
      ['its keys emptied by POST', 'PUT', 'team', { access_key_id: '', secret_access_key: '' }, SERVER_IDENTITY],
    ];
    for (const [what, method, name, body, message] of refused) {
      const res = await s.cli(method, `sys/sync/destinations/aws-sm/${name}`, body, user);
      expect([what, res.status, res.body]).toEqual([what, 403, { errors: [sudoDenied(name, message)] }]);
    }
    // Nothing a refused write asked for was stored.
    expect((await s.cli('GET', 'sys/sync/destinations/aws-sm/mine')).status).toBe(404);
    expect((await s.cli('GET', 'sys/sync/destinations/aws-sm/ambient')).status).toBe(404);
    expect((await s.cli('GET', 'sys/sync/destinations/aws-sm/team')).body.data.connection_details).toEqual({
      region: 'us-east-1',
      access_key_id: '*****',
      secret_access_key: '*****',
      endpoint_url: s.emu.endpoint,
    });

    // What is not the operator's stays the user's: other fields, the same endpoint sent back, new keys.
    expect((await s.cli('PATCH', 'sys/sync/destinations/aws-sm/team', { custom_tags: { team: 'a' } }, user)).status).toBe(200);
    expect((await s.cli('PUT', 'sys/sync/destinations/aws-sm/team', { endpoint_url: s.emu.endpoint, granularity: 'secret-path' }, user)).status).toBe(200);
    expect((await s.cli('PUT', 'sys/sync/destinations/aws-sm/own', { ...keys, region: 'us-east-1' }, user)).status).toBe(200);

    await s.cli('PUT', 'sys/sync/destinations/aws-sm/team/associations/set', { mount: 'my-kv', secret_name: 'app' }, user);
    await s.server.sync.worker.drainOnce();
    expect(capture.connections()).toBe(0);
    expect(s.emu.getSecret('us-east-1', `vault/${s.server.core.mounts.get('my-kv/')!.accessor}/app`)).toBeDefined();
  });

  it('with sudo on the destination path, may do all of it', async () => {
    const capture = await captureListener();
    const operator = await syncWriter(['sudo']);
    expect((await s.cli('PUT', 'sys/sync/destinations/aws-sm/team', { ...keys, region: 'us-east-1', endpoint_url: capture.url }, operator)).status).toBe(200);
    expect((await s.cli('PATCH', 'sys/sync/destinations/aws-sm/team', { sts_endpoint_url: s.emu.endpoint, endpoint_url: s.emu.endpoint }, operator)).status).toBe(200);
    expect((await s.cli('PATCH', 'sys/sync/destinations/aws-sm/team', { access_key_id: null, secret_access_key: null }, operator)).status).toBe(200);
    expect((await s.cli('PUT', 'sys/sync/destinations/aws-sm/ambient-role', { region: 'us-east-1', role_arn: 'arn:aws:iam::123456789012:role/r' }, operator)).status).toBe(200);
  });

  it('changing role_arn, identity_token_audience or identity_token_ttl never redirects traffic: a capture listener shown to receive Ferry\'s traffic when a sudo holder points the endpoints at it receives nothing once they point back, while the emulator receives every write', async () => {
    const capture = await captureListener();
    const user = await syncWriter();
    const operator = await syncWriter(['sudo']);
    const issuer = `${s.url}/v1/identity/oidc/secrets-sync`;
    const provider = issuer.replace(/^https?:\/\//, '');
    s.emu.registerOidcProvider({ url: issuer, clientIds: [AUDIENCE, 'other-audience'] });
    const role = (roleName: string, aud: string, accountId?: string) =>
      s.emu.registerRole({ accountId, roleName, trust: { provider, sub: 'secrets-sync:root:aws-sm:wif', aud } }).arn;
    const [first, second, third] = [role('first', AUDIENCE), role('second', AUDIENCE), role('third', 'other-audience')];
    // The attacker's own AWS account trusts Ferry's (public) issuer too: a role there would receive every value.
    s.emu.registerOidcProvider({ accountId: ATTACKER_ACCOUNT, url: issuer, clientIds: [AUDIENCE] });
    const foreign = role('exfiltrate', AUDIENCE, ATTACKER_ACCOUNT);

    const dest = 'sys/sync/destinations/aws-sm/wif';
    const awsName = () => `vault/${s.server.core.mounts.get('my-kv/')!.accessor}/app`;
    const status = async () => Object.values<any>((await s.cli('GET', `${dest}/associations`)).body.data.associated_secrets)[0].sync_status as string;
    const awsValue = () => s.emu.getSecret('us-east-1', awsName())?.versions.find((v) => v.stages.includes('AWSCURRENT'))?.secretString;
    const write = async (password: string) => expect((await s.cli('PUT', 'my-kv/data/app', { data: { password } }, user)).status).toBe(200);
    // A few passes, each past the one-second probe of a destination parked by an unanswered call.
    const deliver = async () => {
      for (let i = 0; i < 3; i++) {
        s.clock.advance(2 * SECOND);
        await s.server.sync.worker.drainOnce();
      }
    };

    // Positive control: when a sudo holder (not root) points both endpoints at the capture
    // listener, Ferry's traffic — here the STS call carrying a signed token — does reach it.
    const atCapture = { role_arn: first, identity_token_audience: AUDIENCE, region: 'us-east-1', endpoint_url: capture.url, sts_endpoint_url: capture.url };
    expect((await s.cli('PUT', dest, atCapture, operator)).status).toBe(200);
    expect((await s.cli('PUT', `${dest}/associations/set`, { mount: 'my-kv', secret_name: 'app' }, user)).status).toBe(200);
    await deliver();
    expect(capture.connections()).toBeGreaterThan(0);
    expect([await status(), s.emu.requestLog({ service: 'sts' })]).toEqual([expect.not.stringMatching(/^SYNCED$/), []]);
    // The operator points them back at the emulator: from now on the capture listener must hear nothing.
    expect((await s.cli('PATCH', dest, { endpoint_url: s.emu.endpoint, sts_endpoint_url: s.emu.endpoint }, operator)).status).toBe(200);
    await deliver();
    expect([await status(), awsValue()]).toEqual(['SYNCED', JSON.stringify({ password: 'S3CRET' })]);
    const heardBefore = capture.connections();

    // What the narrow user may change, each followed by a write: AWS (the emulator) receives it, as
    // the role and with the token the change asked for, and the capture listener nothing. The last
    // step returns to exactly the settings in effect while the endpoints were the capture's.
    const steps: Array<[Record<string, unknown>, string, string, number]> = [
      [{ identity_token_ttl: '2h' }, 'first', AUDIENCE, 7200],
      [{ role_arn: second }, 'second', AUDIENCE, 7200],
      [{ role_arn: third, identity_token_audience: 'other-audience' }, 'third', 'other-audience', 7200],
      [{ custom_tags: { team: 'a' }, replica_regions: { 'us-west-2': '' } }, 'third', 'other-audience', 7200],
      [{ role_arn: first, identity_token_audience: AUDIENCE, identity_token_ttl: '1h' }, 'first', AUDIENCE, 3600],
    ];
    for (const [i, [change, roleName, aud, ttl]] of steps.entries()) {
      const since = s.clock();
      expect((await s.cli('PATCH', dest, change, user)).status).toBe(200);
      await write(`step-${i}`);
      await deliver();
      const token = s.emu.requestLog({ operation: 'AssumeRoleWithWebIdentity', since }).at(-1)?.webIdentity;
      const writer = s.emu.requestLog({ operation: 'UpdateSecret', since }).at(-1)?.principalArn;
      expect({ step: change, status: await status(), heard: capture.connections() - heardBefore, value: awsValue(), writer, aud: token?.aud, ttl: token && token.exp - token.iat }).toEqual({
        step: change,
        status: 'SYNCED',
        heard: 0,
        value: JSON.stringify({ password: `step-${i}` }),
        writer: expect.stringMatching(new RegExp(`^arn:aws:sts::123456789012:assumed-role/${roleName}/`)),
        aud,
        ttl,
      });
    }
    expect(s.emu.getSecret('us-east-1', awsName())?.replicas).toEqual(['us-west-2']);

    // What an attacker would try instead, each followed by a write: a role in their own account,
    // another region, a ten-year token, and the allowed fields smuggled beside an endpoint.
    const attempts: Array<[string, Record<string, unknown>]> = [
      ['PATCH', { role_arn: foreign }],
      ['PATCH', { region: 'eu-west-1' }],
      ['PATCH', { identity_token_ttl: '87600h' }],
      ['PATCH', { role_arn: second, sts_endpoint_url: capture.url }],
      ['PATCH', { identity_token_audience: 'other-audience', endpoint_url: capture.url }],
      ['PUT', { identity_token_ttl: '2h', endpoint_url: capture.url, sts_endpoint_url: capture.url }],
      // Or the other account in two steps: drop the role (or the web identity) first, or trade the role for keys.
      ['PATCH', { role_arn: null }],
      ['PATCH', { identity_token_audience: null }],
      ['PATCH', { role_arn: foreign, access_key_id: TEST_ACCESS_KEY, secret_access_key: TEST_SECRET_KEY }],
    ];
    const outcomes = [];
    for (const [i, [method, body]] of attempts.entries()) {
      const res = await s.cli(method, dest, body, user);
      await write(`attempt-${i}`);
      await deliver();
      outcomes.push({
        attempt: body,
        answer: [res.status, res.body?.errors],
        heard: capture.connections() - heardBefore,
        // Any call made as (or to) the attacker's account: their role assumed with a Ferry-signed token, a secret written there.
        attackerAccount: s.emu.requestLog().filter((e) => e.accountId === ATTACKER_ACCOUNT || e.principalArn?.includes(ATTACKER_ACCOUNT)).map((e) => e.operation),
        value: awsValue(),
      });
    }
    const refused = (status: number, error: string) => [status, [error]];
    expect(outcomes).toEqual(
      [
        // A role in another account is refused even to a sudo holder (a new destination is the way).
        refused(400, `role_arn must stay in AWS account 123456789012: create a new destination for account ${ATTACKER_ACCOUNT}`),
        refused(400, 'region cannot be changed after the destination is created (it is "us-east-1"); create a new destination instead'),
        refused(400, 'identity_token_ttl 315360000s is too long: at most 86400s (24h); AWS needs the token only for one exchange'),
        refused(403, sudoDenied('wif', 'setting sts_endpoint_url')),
        refused(403, sudoDenied('wif', 'setting endpoint_url')),
        refused(403, sudoDenied('wif', 'setting endpoint_url and setting sts_endpoint_url')),
        refused(400, 'identity_token_audience requires role_arn: the role to assume with the identity token'),
        refused(403, sudoDenied('wif', SERVER_IDENTITY)),
        refused(400, `role_arn must stay in AWS account 123456789012: create a new destination for account ${ATTACKER_ACCOUNT}`),
      ].map((answer, i) => ({ attempt: attempts[i]![1], answer, heard: 0, attackerAccount: [], value: JSON.stringify({ password: `attempt-${i}` }) })),
    );
    // Nothing a refused attempt asked for was stored.
    expect((await s.cli('GET', dest)).body.data.connection_details).toEqual({
      region: 'us-east-1',
      role_arn: first,
      identity_token_audience: '*****',
      identity_token_ttl: 3600,
      endpoint_url: s.emu.endpoint,
      sts_endpoint_url: s.emu.endpoint,
      replica_regions: { 'us-west-2': '' },
    });
  });
});

describe('identity_token_ttl', () => {
  it('is refused above 24h and above the signing key\'s verification_ttl, for every token', async () => {
    const wif = { role_arn: 'arn:aws:iam::123456789012:role/r', identity_token_audience: AUDIENCE, region: 'us-east-1' };
    const long = await s.cli('PUT', 'sys/sync/destinations/aws-sm/wif', { ...wif, identity_token_ttl: '87600h' });
    expect([long.status, long.body.errors]).toEqual([400, ['identity_token_ttl 315360000s is too long: at most 86400s (24h); AWS needs the token only for one exchange']]);
    expect((await s.cli('PUT', 'identity/oidc/key/short', { rotation_period: '1h', verification_ttl: '1h' })).status).toBe(204);
    const over = await s.cli('PUT', 'sys/sync/destinations/aws-sm/wif', { ...wif, identity_token_key: 'short', identity_token_ttl: '2h' });
    expect([over.status, over.body.errors]).toEqual([
      400,
      ['identity_token_ttl 7200s is longer than the verification_ttl of signing key "short" (3600s): the token would outlive its key\'s publication'],
    ]);
    expect((await s.cli('GET', 'sys/sync/destinations/aws-sm/wif')).status).toBe(404);
    expect((await s.cli('PUT', 'sys/sync/destinations/aws-sm/wif', { ...wif, identity_token_key: 'short', identity_token_ttl: '30m' })).status).toBe(200);
  });
});

describe('the sync stanza of the configuration', () => {
  it('restricts endpoints to allowed_endpoint_prefixes, even for root: scheme, host and port equal, the path at or below', async () => {
    const prefixes = [`${s.emu.endpoint}/`, 'http://10.0.0.1:4566/sm'];
    const restricted = closeAfterTest(await startTestServer({ sync: { allowedEndpointPrefixes: prefixes } }));
    const put = (name: string, endpoint: Record<string, string>) =>
      restricted.call('PUT', `/v1/sys/sync/destinations/aws-sm/${name}`, { body: { ...keys, region: 'us-east-1', ...endpoint } });
    for (const url of [s.emu.endpoint, 'http://10.0.0.1:4566/sm', 'http://10.0.0.1:4566/sm/v1']) expect((await put('ok', { endpoint_url: url })).statusCode).toBe(200);
    for (const [field, url] of [
      ['endpoint_url', 'http://10.0.0.1:45660/sm'],
      ['endpoint_url', 'http://10.0.0.1:4566/smx'],
      ['endpoint_url', 'https://10.0.0.1:4566/sm'],
      ['sts_endpoint_url', 'http://10.0.0.1.example.com:4566/sm'],
    ] as const) {
      const res = await put('refused', { [field]: url });
      expect(res.statusCode).toBe(400);
      expect(res.json().errors).toEqual([`${field} "${url}" is not under any of the server configuration's sync.allowed_endpoint_prefixes (${prefixes.join(', ')})`]);
    }
  });
});

describe('endpoints stored before they needed sudo', () => {
  it('are kept, listed in one WARN line at every unseal until a sudo holder writes the destination', async () => {
    const file = path.join(tempDirForTest('ferry-endpoints-'), 'ferry.db');
    const first = closeAfterTest(await startPersistent(file));
    const init = await initAndUnseal(first);
    // As the previous release stored them: endpoints, and no confirmation by a sudo holder.
    const at = new Date().toISOString();
    const legacy = (name: string, endpoint: string): Destination => ({
      type: 'aws-sm',
      name,
      connection: {
        ...keys,
        region: 'us-east-1',
        role_arn: '',
        external_id: '',
        identity_token_audience: '',
        identity_token_key: '',
        identity_token_ttl: 3600,
        kms_key_id: '',
        replica_regions: {},
        endpoint_url: endpoint,
        sts_endpoint_url: '',
        disable_strict_networking: false,
        allowed_ipv4_addresses: [],
        allowed_ipv6_addresses: [],
        allowed_ports: [],
      },
      options: { granularity_level: 'secret-path', secret_name_template: DEFAULT_TEMPLATE, custom_tags: {} },
      generation: 1,
      created_at: at,
    });
    const records = new SyncRecords(first.server.core.store);
    await records.change().saveDestination(legacy('old-a', 'http://10.1.2.3:4566')).saveDestination(legacy('old-b', 'http://localstack:4566')).commit();
    await first.close();

    const restart = async () => {
      const lines: string[] = [];
      const sink = new Writable({
        write(chunk, _e, cb) {
          lines.push(chunk.toString());
          cb();
        },
      });
      const t = closeAfterTest(await startPersistent(file, { logger: createLogger('info', sink as never, 'json') }));
      expect((await t.call('PUT', '/v1/sys/unseal', { token: null, body: { key: init.keys[0] } })).json().sealed).toBe(false);
      return { t, warnings: () => lines.map((l) => JSON.parse(l)).filter((l) => l.level === 40) };
    };
    const second = await restart();
    expect(second.warnings()).toEqual([
      expect.objectContaining({
        destinations: ['aws-sm/old-a (endpoint_url=http://10.1.2.3:4566)', 'aws-sm/old-b (endpoint_url=http://localstack:4566)'],
        msg: expect.stringContaining('endpoints stored before only sudo holders could set endpoint_url and sts_endpoint_url'),
      }),
    ]);
    // Kept as they were; the root token (sudo) writing one confirms it.
    expect((await second.t.call('GET', '/v1/sys/sync/destinations/aws-sm/old-a', { token: init.root_token })).json().data.connection_details.endpoint_url).toBe(
      'http://10.1.2.3:4566',
    );
    expect((await second.t.call('PATCH', '/v1/sys/sync/destinations/aws-sm/old-a', {
      token: init.root_token,
      body: { custom_tags: { reviewed: 'yes' } },
      headers: { 'content-type': 'application/merge-patch+json' },
    })).statusCode).toBe(200);
    await second.t.close();
    const third = await restart();
    expect(third.warnings().map((w) => w.destinations)).toEqual([['aws-sm/old-b (endpoint_url=http://localstack:4566)']]);
  });
});
