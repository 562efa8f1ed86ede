import net from 'node:net';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Resolver } from '../../src/sync/index.js';
import { closeAfterTest } from '../support/fixtures.js';
import { TEST_ACCESS_KEY, TEST_SECRET_KEY, useSyncServer } from '../support/sync.js';

/**
 * Strict networking with Vault's defaults, on the address each socket actually connects to.
 * The destinations here have no endpoint_url: they talk to AWS's own hostnames, which a resolver
 * the test injects maps to loopback addresses (the emulator listens on 127.0.0.1). Where a test
 * needs Ferry to reach the emulator through such a name, the AWS SDK's own endpoint variables
 * (AWS_ENDPOINT_URL_SECRETS_MANAGER, AWS_ENDPOINT_URL_STS, which an operator may set too) give
 * the emulator's port and plain http, with AWS's hostname kept.
 */
const SM_HOST = 'secretsmanager.us-east-1.amazonaws.com';
const STS_HOST = 'sts.us-east-1.amazonaws.com';

/** What the injected resolver answers, per hostname (a function: per lookup), and every lookup it served. */
const answers = new Map<string, string[] | (() => string[])>();
const lookups: string[] = [];
const resolve: Resolver = async (hostname) => {
  lookups.push(hostname);
  const answer = answers.get(hostname);
  const addresses = typeof answer === 'function' ? answer() : answer;
  if (!addresses) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
  return addresses.map((address) => ({ address, family: net.isIPv6(address) ? 6 : 4 }));
};

const t = useSyncServer({}, { syncResolver: resolve });
beforeEach(async () => {
  answers.clear();
  lookups.length = 0;
  await t.call('POST', '/v1/sys/mounts/my-kv', { body: { type: 'kv-v2' } });
  await t.call('PUT', '/v1/my-kv/data/app', { body: { data: { password: 'S3CRET' } } });
});

const port = () => Number(new URL(t.emu.endpoint).port);
const awsName = () => `vault/${t.server.core.mounts.get('my-kv/')!.accessor}/app`;
const keys = { access_key_id: TEST_ACCESS_KEY, secret_access_key: TEST_SECRET_KEY, region: 'us-east-1' };

async function syncWith(fields: Record<string, unknown>, name = 'd'): Promise<{ sync_status: string; last_error?: string }> {
  const res = await t.call('PUT', `/v1/sys/sync/destinations/aws-sm/${name}`, { body: { ...keys, ...fields } });
  expect(res.statusCode, res.body).toBe(200);
  await t.call('PUT', `/v1/sys/sync/destinations/aws-sm/${name}/associations/set`, { body: { mount: 'my-kv', secret_name: 'app' } });
  return deliver(name);
}
async function deliver(name = 'd'): Promise<{ sync_status: string; last_error?: string }> {
  for (let i = 0; i < 3; i++) {
    t.clock.advance(1_000);
    await t.server.sync.worker.drainOnce();
  }
  const res = await t.call('GET', `/v1/sys/sync/destinations/aws-sm/${name}/associations`);
  return Object.values<any>(res.json().data.associated_secrets)[0];
}

/** A listener on another loopback address, on the emulator's port: where a refused connection would land. */
async function captureOn(address: string): Promise<() => number> {
  let connections = 0;
  const server = net.createServer((socket) => {
    connections++;
    socket.destroy();
  });
  await new Promise<void>((done) => server.listen(port(), address, done));
  closeAfterTest({ close: () => new Promise<void>((done) => server.close(() => done())) });
  return () => connections;
}

const refusal = (host: string, p: number, reason: string) =>
  `strict networking refused to connect to ${host} port ${p}: ${reason}; a destination's allowed_ipv4_addresses, allowed_ipv6_addresses and allowed_ports widen what it may reach, and disable_strict_networking turns the checks off`;
const LOOPBACK = (address: string, field = 'allowed_ipv4_addresses') =>
  `${address} is loopback (127.0.0.0/8), an IANA special-purpose address (${field} widens this)`;

describe("strict networking with Vault's defaults", () => {
  it("refuses a loopback or metadata answer for AWS's hostname before connecting: a final error on the association", async () => {
    answers.set(SM_HOST, ['127.0.0.1']);
    const status = await syncWith({});
    expect(status.sync_status).toBe('CLIENT_SIDE_ERROR');
    expect(status.last_error).toBe(`CreateSecret: ${refusal(SM_HOST, 443, LOOPBACK('127.0.0.1'))}`);
    // Final: not tried again until the destination changes.
    expect(await t.server.core.store.pendingOutbox('sync')).toEqual([]);
    answers.set(SM_HOST, ['169.254.169.254']);
    await t.call('PATCH', '/v1/sys/sync/destinations/aws-sm/d', { body: { custom_tags: { a: '1' } }, headers: { 'content-type': 'application/merge-patch+json' } });
    expect((await deliver()).last_error).toContain('169.254.169.254 is link-local, where cloud instance metadata lives (169.254.0.0/16)');
    expect(lookups.every((h) => h === SM_HOST)).toBe(true);
  });

  it('refuses an IPv4-mapped IPv6 loopback answer, and any special-purpose IPv6 one', async () => {
    answers.set(SM_HOST, ['::ffff:127.0.0.1', '::1', 'fd00::1']);
    const status = await syncWith({});
    expect(status.last_error).toContain('127.0.0.1 is loopback (127.0.0.0/8)');
    expect(status.last_error).toContain('::1 is not a global unicast IPv6 address');
    expect(status.last_error).toContain('fd00::1 is not a global unicast IPv6 address');
  });

  it('refuses a CIDR-less address in allowed_ipv4_addresses or allowed_ipv6_addresses with a 400, as Vault does', async () => {
    for (const [field, value] of [
      ['allowed_ipv4_addresses', '127.0.0.1'],
      ['allowed_ipv4_addresses', '10.0.0.0/33'],
      ['allowed_ipv6_addresses', 'fd00::1'],
      ['allowed_ipv6_addresses', '10.0.0.0/8'],
    ]) {
      const res = await t.call('PUT', '/v1/sys/sync/destinations/aws-sm/d', { body: { ...keys, [field!]: [value] } });
      expect(res.statusCode).toBe(400);
      expect(res.json().errors[0]).toMatch(new RegExp(`^invalid IPv[46] CIDR "${value!.replace(/[./]/g, '\\$&')}" in ${field}: give an address and a prefix length`));
    }
    expect((await t.call('GET', '/v1/sys/sync/destinations/aws-sm/d')).statusCode).toBe(404);
  });

  it('counts an endpoint_url a sudo holder set as allowed by itself (the emulator on loopback, a port of its own)', async () => {
    expect((await syncWith({ endpoint_url: t.emu.endpoint })).sync_status).toBe('SYNCED');
    expect(lookups).toEqual([]);
  });
});

describe("AWS's hostnames reaching the emulator through the resolver", () => {
  beforeEach(() => {
    vi.stubEnv('AWS_ENDPOINT_URL_SECRETS_MANAGER', `http://${SM_HOST}:${port()}`);
    vi.stubEnv('AWS_ENDPOINT_URL_STS', `http://${STS_HOST}:${port()}`);
  });
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('an allowed_ipv4_addresses CIDR admits the loopback answer, and allowed_ports the port; each alone does not', async () => {
    answers.set(SM_HOST, ['127.0.0.1']);
    expect((await syncWith({ allowed_ports: [port()] })).last_error).toBe(`CreateSecret: ${refusal(SM_HOST, port(), LOOPBACK('127.0.0.1'))}`);
    expect((await syncWith({ allowed_ipv4_addresses: ['127.0.0.0/8'], allowed_ports: [] })).last_error).toBe(
      `CreateSecret: ${refusal(SM_HOST, port(), `port ${port()} is not 80 or 443 (allowed_ports widens this)`)}`,
    );
    expect((await syncWith({ allowed_ipv4_addresses: ['127.0.0.0/8'], allowed_ports: [port()] })).sync_status).toBe('SYNCED');
    expect(t.emu.getSecret('us-east-1', awsName())!.versions[0]!.secretString).toBe('{"password":"S3CRET"}');
  });

  it('never connects to the refused one of two addresses a hostname resolves to', async () => {
    const outside = await captureOn('127.0.0.2');
    answers.set(SM_HOST, ['127.0.0.2', '127.0.0.1']);
    const status = await syncWith({ allowed_ipv4_addresses: ['127.0.0.1/32'], allowed_ports: [port()] });
    expect(status.sync_status).toBe('SYNCED');
    expect(outside()).toBe(0);
  });

  it('is not fooled by rebinding: a name that resolved to an allowed address, then to a refused one, never reaches the refused one', async () => {
    const outside = await captureOn('127.0.0.2');
    let served = 0;
    answers.set(SM_HOST, () => (served++ === 0 ? ['127.0.0.1'] : ['127.0.0.2']));
    expect((await syncWith({ allowed_ipv4_addresses: ['127.0.0.1/32'], allowed_ports: [port()] })).sync_status).toBe('SYNCED');
    // A changed destination gets new sockets, so the name is resolved again: to the refused address now.
    await t.call('PATCH', '/v1/sys/sync/destinations/aws-sm/d', { body: { custom_tags: { a: '1' } }, headers: { 'content-type': 'application/merge-patch+json' } });
    await t.call('PUT', '/v1/my-kv/data/app', { body: { data: { password: 'next' } } });
    const status = await deliver();
    expect(status.sync_status).toBe('CLIENT_SIDE_ERROR');
    expect(status.last_error).toContain(`strict networking refused to connect to ${SM_HOST} port ${port()}: 127.0.0.2 is loopback (127.0.0.0/8)`);
    expect(served).toBeGreaterThanOrEqual(2);
    expect(outside()).toBe(0);
    expect(t.emu.getSecret('us-east-1', awsName())!.versions.map((v) => v.secretString)).toEqual(['{"password":"S3CRET"}']);
  });

  it('checks the STS connection too: a role assumed through a refused address fails, with the STS call named', async () => {
    answers.set(SM_HOST, ['127.0.0.1']);
    answers.set(STS_HOST, ['127.0.0.2']);
    const outside = await captureOn('127.0.0.2');
    const role = t.emu.registerRole({ roleName: 'sync', trust: {} }).arn;
    const status = await syncWith({ role_arn: role, allowed_ipv4_addresses: ['127.0.0.1/32'], allowed_ports: [port()] });
    expect(status.sync_status).toBe('CLIENT_SIDE_ERROR');
    expect(status.last_error).toBe(`STS AssumeRole: ${refusal(STS_HOST, port(), LOOPBACK('127.0.0.2'))}`);
    expect(outside()).toBe(0);
    answers.set(STS_HOST, ['127.0.0.1']);
    await t.call('PATCH', '/v1/sys/sync/destinations/aws-sm/d', { body: { custom_tags: { a: '1' } }, headers: { 'content-type': 'application/merge-patch+json' } });
    expect((await deliver()).sync_status).toBe('SYNCED');
    expect(t.emu.requestLog({ operation: 'AssumeRole' }).map((e) => e.errorCode)).toEqual([undefined]);
  });

  it('disable_strict_networking turns the checks off', async () => {
    answers.set(SM_HOST, ['127.0.0.1']);
    expect((await syncWith({ disable_strict_networking: true })).sync_status).toBe('SYNCED');
  });
});
