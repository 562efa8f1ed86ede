/**
 * The HA endpoints on a server without HA (SQLite, or PostgreSQL without `ha_enabled`): one
 * node, always active, as a Vault node without HA storage answers.
 */
import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { useTestServer } from '../support/fixtures.js';

const t = useTestServer({ apiAddr: 'http://127.0.0.1:8200' });

describe('HA endpoints on a single node', () => {
  it('sys/ha-status lists the one node, active; a token without a policy for it is refused', async () => {
    const res = await t.call('GET', '/v1/sys/ha-status');
    expect(res.statusCode).toBe(200);
    const node = { hostname: hostname(), api_address: 'http://127.0.0.1:8200', cluster_address: '', active_node: true, last_echo: null, version: expect.stringMatching(/\+ferry\./) };
    expect(res.json().data).toEqual({ nodes: [node] });
    // An injector path: the data is copied to the top level too.
    expect(res.json().nodes).toEqual([node]);
    const narrow = (await t.call('POST', '/v1/auth/token/create', { body: { policies: ['default'] } })).json().auth.client_token;
    expect((await t.call('GET', '/v1/sys/ha-status', { token: narrow })).statusCode).toBe(403);
  });

  it('sys/step-down (sudo) leaves the only node active; sys/health checks haunhealthycode and standbycode like the other codes', async () => {
    expect((await t.call('PUT', '/v1/sys/step-down')).statusCode).toBe(204);
    const narrow = (await t.call('POST', '/v1/auth/token/create', { body: { policies: ['default'] } })).json().auth.client_token;
    expect((await t.call('PUT', '/v1/sys/step-down', { token: narrow })).statusCode).toBe(403);
    expect((await t.call('GET', '/v1/sys/leader')).json()).toMatchObject({ ha_enabled: false, is_self: false });
    expect((await t.call('GET', '/v1/sys/health?haunhealthycode=200&standbycode=200', { token: null })).statusCode).toBe(200);
    for (const bad of ['haunhealthycode=abc', 'haunhealthycode=999', 'standbycode=42']) {
      const res = await t.call('GET', `/v1/sys/health?${bad}`, { token: null });
      expect(res.statusCode, bad).toBe(400);
    }
  });
});
