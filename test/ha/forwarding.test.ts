/**
 * Request forwarding over the cluster channel, without a database of its own: a "standby" app
 * whose HA view names an "active" node's cluster listener forwards client requests there over
 * TLS-PSK. The election is replaced by fixed views here; `cluster.pg.test.ts` runs the real one.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import tls from 'node:tls';
import { describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { createServer, type Server } from '../../src/compose.js';
import { RequestForwarder, clusterServerTls, type ClusterPsk } from '../../src/http/forward.js';
import { listen, type RunningListener } from '../../src/http/server.js';
import { SINGLE_NODE, type HaView } from '../../src/ha/index.js';
import { closeAfterTest } from '../support/fixtures.js';

const IDENTITY = 'ferry-cluster';

function view(active: () => boolean, leader?: () => string): HaView {
  return {
    ...SINGLE_NODE,
    enabled: true,
    isActive: active,
    nodeId: () => (active() ? 'active-node' : 'standby-node'),
    leader: () => (leader ? { nodeId: 'active-node', apiAddr: '', clusterAddr: leader(), term: 1, since: 0 } : undefined),
  };
}

interface Pair {
  active: Server;
  standbyUrl: string;
  clusterUrl: string;
  /** Flip to make the "active" node a standby (it then refuses forwarded requests). */
  state: { active: boolean };
}

/** An active node's cluster listener and a standby's client listener forwarding to it, sharing `key` (or not). */
async function pair(opts: { standbyKey?: Buffer | undefined; activeKey?: Buffer } = {}): Promise<Pair> {
  const key = opts.activeKey ?? randomBytes(32);
  const standbyKey = 'standbyKey' in opts ? opts.standbyKey : key;
  const state = { active: true };
  const active = closeAfterTest(await createServer({ storagePath: ':memory:', dev: true, devRootTokenId: 'root' }));
  const activePsk: ClusterPsk = { identity: IDENTITY, key: () => key };
  const clusterApp = await buildApp({ ...active.core, clusterChannel: true, ha: { view: view(() => state.active), forwarder: new RequestForwarder(activePsk) } });
  const cluster: RunningListener = closeAfterTest(await listen(clusterApp, { address: '127.0.0.1:0', tlsDisable: false, tlsOptions: clusterServerTls(activePsk) }));
  const clusterUrl = `https://127.0.0.1:${cluster.port}`;

  const standby = closeAfterTest(await createServer({ storagePath: ':memory:', dev: true, devRootTokenId: 'other-root' }));
  const forwarder = new RequestForwarder({ identity: IDENTITY, key: () => standbyKey });
  const standbyApp = await buildApp({ ...standby.core, ha: { view: view(() => false, () => clusterUrl), forwarder } });
  const client = closeAfterTest(await listen(standbyApp, { address: '127.0.0.1:0', tlsDisable: true }));
  closeAfterTest({ close: () => forwarder.reset() });
  return { active, standbyUrl: client.url, clusterUrl, state };
}

/** A raw HTTP request (any verb, LIST included) to `url`. */
function call(url: string, method: string, path: string, token: string | null, body?: unknown, headers: Record<string, string> = {}) {
  return new Promise<{ status: number; body: any; headers: http.IncomingHttpHeaders }>((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request(`${url}${path}`, { method, headers: { ...(token ? { 'x-vault-token': token } : {}), ...headers } }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode!, body: text ? JSON.parse(text) : undefined, headers: res.headers }));
    });
    req.on('error', reject);
    req.end(payload);
  });
}

describe('request forwarding from a standby to the active node', () => {
  it('writes, reads, LIST and errors through the standby are the active node\'s, answered as it answers them', async () => {
    const p = await pair();
    const put = await call(p.standbyUrl, 'PUT', '/v1/secret/data/app/db', 'root', { data: { password: 'hunter2' } });
    expect(put.status).toBe(200);
    expect(put.body.data.version).toBe(1);
    // It landed in the active node's store: its own API serves it.
    const activeApp = closeAfterTest(await buildApp(p.active.core));
    const atActive = await activeApp.inject({ method: 'GET', url: '/v1/secret/data/app/db', headers: { 'x-vault-token': 'root' } });
    expect(atActive.json().data.data).toEqual({ password: 'hunter2' });
    const direct = await call(p.standbyUrl, 'GET', '/v1/secret/data/app/db', 'root');
    expect(direct.status).toBe(200);
    expect(direct.body.data.data).toEqual({ password: 'hunter2' });
    const list = await call(p.standbyUrl, 'LIST', '/v1/secret/metadata/app', 'root');
    expect(list.status).toBe(200);
    expect(list.body.data.keys).toEqual(['db']);
    // The standby's own root token means nothing to the active node.
    const foreign = await call(p.standbyUrl, 'GET', '/v1/secret/data/app/db', 'other-root');
    expect(foreign.status).toBe(403);
    expect(foreign.body).toEqual({ errors: ['permission denied'] });
    const missing = await call(p.standbyUrl, 'GET', '/v1/secret/data/nothing', 'root');
    expect(missing.status).toBe(404);
  });

  it('the client\'s address crosses to the active node (token_bound_cidrs hold), and a client cannot claim another one', async () => {
    const p = await pair();
    expect((await call(p.standbyUrl, 'POST', '/v1/sys/auth/userpass', 'root', { type: 'userpass' })).status).toBe(204);
    // Users who may log in (and use their tokens) only from where token_bound_cidrs say.
    const login = async (cidr: string, headers: Record<string, string> = {}) => {
      const user = `u${cidr.replace(/\W/g, '')}`;
      expect((await call(p.standbyUrl, 'POST', `/v1/auth/userpass/users/${user}`, 'root', { password: 'pw', token_bound_cidrs: [cidr] })).status).toBe(204);
      return call(p.standbyUrl, 'POST', `/v1/auth/userpass/login/${user}`, null, { password: 'pw' }, headers);
    };
    const here = await login('127.0.0.1/32');
    expect(here.status).toBe(200);
    expect((await call(p.standbyUrl, 'GET', '/v1/auth/token/lookup-self', here.body.auth.client_token)).status).toBe(200);
    const spoofed = await login('10.0.0.0/8', { 'x-ferry-forwarded-for': '10.1.2.3' });
    expect(spoofed.status).toBe(403);
  });

  it('the standby answers its own health, seal status and leader view without forwarding', async () => {
    const p = await pair();
    // The standby's own server is a different dev server: its seal status is its own.
    const status = await call(p.standbyUrl, 'GET', '/v1/sys/seal-status', null);
    expect(status.status).toBe(200);
    expect(status.body.sealed).toBe(false);
    p.state.active = false; // the active node would refuse anything forwarded now
    expect((await call(p.standbyUrl, 'GET', '/v1/sys/health', null)).status).not.toBe(503);
  });

  it('a node that is no longer active refuses forwarded requests with a 503 the client can retry, never a 500', async () => {
    const p = await pair();
    p.state.active = false;
    const res = await call(p.standbyUrl, 'GET', '/v1/secret/data/x', 'root', undefined, { 'x-vault-namespace': 'root' });
    expect(res.status).toBe(503);
    expect(res.body).toEqual({ errors: ['this node is not the active node: retry'] });
    expect(res.headers['x-vault-namespace']).toBe('root');
  });

  it('a standby holding another key (another cluster) or none (sealed) cannot forward: 503', async () => {
    const wrong = await pair({ standbyKey: randomBytes(32) });
    const res = await call(wrong.standbyUrl, 'GET', '/v1/secret/data/x', 'root', undefined, { 'x-vault-namespace': 'root' });
    expect(res.status).toBe(503);
    expect(res.headers['x-vault-namespace']).toBe('root');
    expect(res.body.errors[0]).toMatch(/error forwarding the request to the active node/);
    const none = await pair({ standbyKey: undefined });
    expect((await call(none.standbyUrl, 'GET', '/v1/secret/data/x', 'root')).status).toBe(503);
  });

  it('the cluster listener speaks only TLS with the cluster key: a request in clear and a TLS client without the key get nothing', async () => {
    const p = await pair();
    const { port } = new URL(p.clusterUrl);
    const clear = await new Promise<string>((resolve) => {
      const socket = net.connect(Number(port), '127.0.0.1', () => socket.write('GET /v1/secret/data/x HTTP/1.1\r\nHost: a\r\nX-Vault-Token: root\r\n\r\n'));
      let got = '';
      socket.on('data', (c) => (got += c.toString('latin1')));
      socket.on('error', () => resolve(got));
      socket.on('close', () => resolve(got));
    });
    expect(clear).not.toMatch(/HTTP\/1\.1 \d{3}/);
    const handshake = await new Promise<string>((resolve) => {
      const socket = tls.connect({ port: Number(port), host: '127.0.0.1', rejectUnauthorized: false }, () => resolve('connected'));
      socket.on('error', (err) => resolve(`refused: ${err.message}`));
    });
    expect(handshake).toMatch(/^refused/);
  });
});
