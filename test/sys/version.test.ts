import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { initAndUnseal, startPersistent } from '../security/support.js';
import { DAY, manualClock } from '../support/clock.js';
import { closeAfterTest, tempDirForTest, useTestServer } from '../support/fixtures.js';
import { VAULT_VERSION, providerParse, providerSeesEnterprise, providerSupports } from '../support/terraform.js';

const t = useTestServer();

describe('the version Ferry reports', () => {
  it('is the Vault API version with Ferry’s own as build metadata, in sys/seal-status and sys/health, plus ferry_version', async () => {
    const status = (await t.call('GET', '/v1/sys/seal-status', { token: null })).json();
    const health = (await t.call('GET', '/v1/sys/health', { token: null })).json();
    expect(status.version).toBe('2.2.0+ferry.0.1.0');
    expect(status.ferry_version).toBe('0.1.0');
    expect(health.version).toBe(status.version);
    expect(health.ferry_version).toBe('0.1.0');
  });

  it('passes terraform-provider-vault’s version gate: parses, compares equal to 2.2.0, and is not taken for Enterprise', async () => {
    const reported = providerParse((await t.call('GET', '/v1/sys/seal-status', { token: null })).json().version);
    expect(reported.prerelease).toBe('');
    expect(reported.metadata).toBe('ferry.0.1.0');
    for (const min of Object.values(VAULT_VERSION)) expect(providerSupports(reported, min), min).toBe(true);
    expect(providerSupports(reported, '2.2.1')).toBe(false);
    expect(providerSeesEnterprise(reported)).toBe(false);
  });

  it('the gate helper itself refuses what the provider refuses (so the test above can fail)', () => {
    expect(() => providerParse('ferry-0.1.0')).toThrow(/malformed version/);
    expect(() => providerParse('')).toThrow(/malformed version/);
    // A prerelease compares lower: 2.2.0-gated fields would be off.
    expect(providerSupports(providerParse('2.2.0-ferry.0.1.0'), VAULT_VERSION.v220)).toBe(false);
    expect(providerSeesEnterprise(providerParse('2.2.0+parent.1'))).toBe(true);
  });
});

describe('LIST sys/version-history', () => {
  it('lists the running version with its build date and install time, by LIST and by GET ?list=true', async () => {
    for (const [method, url] of [
      ['LIST', '/v1/sys/version-history'],
      ['GET', '/v1/sys/version-history?list=true'],
    ] as const) {
      const res = await t.call(method, url);
      expect(res.statusCode, method).toBe(200);
      const data = res.json().data;
      expect(data.keys).toEqual(['2.2.0+ferry.0.1.0']);
      expect(data.key_info['2.2.0+ferry.0.1.0']).toEqual({
        build_date: '2026-11-29T00:00:00Z',
        previous_version: null,
        timestamp_installed: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/),
      });
    }
  });

  it('needs a token allowed to list it', async () => {
    const put = await t.call('PUT', '/v1/sys/policies/acl/nothing', { body: { policy: 'path "secret/*" { capabilities = ["read"] }' } });
    expect(put.statusCode).toBe(204);
    const token = (await t.call('POST', '/v1/auth/token/create', { body: { policies: ['nothing'] } })).json().auth.client_token;
    expect((await t.call('LIST', '/v1/sys/version-history', { token })).statusCode).toBe(403);
  });

  it('stores the install time once: a restart and unseal days later keeps the first one; an older version shows as previous', async () => {
    const clock = manualClock(Date.parse('2026-12-01T10:00:00Z'));
    const file = path.join(tempDirForTest(), 'ferry.db');
    const first = closeAfterTest(await startPersistent(file, { clock }));
    const init = await initAndUnseal(first);
    // What an earlier release would have recorded, written where Ferry keeps the history.
    await first.server.core.store.commit([
      {
        kind: 'put',
        key: 'core/versions/' + encodeURIComponent('2.1.0+ferry.0.0.9'),
        value: Buffer.from(JSON.stringify({ version: '2.1.0+ferry.0.0.9', timestamp_installed: '2026-11-01T00:00:00.000Z', build_date: '2026-10-30T00:00:00Z' })),
      },
    ]);
    await first.close();

    clock.advance(3 * DAY);
    const again = closeAfterTest(await startPersistent(file, { clock }));
    expect((await again.call('PUT', '/v1/sys/unseal', { token: null, body: { key: init.keys_base64[0] } })).json().sealed).toBe(false);
    const data = (await again.call('LIST', '/v1/sys/version-history', { token: init.root_token })).json().data;
    expect(data.keys).toEqual(['2.1.0+ferry.0.0.9', '2.2.0+ferry.0.1.0']);
    expect(data.key_info['2.2.0+ferry.0.1.0']).toEqual({
      build_date: '2026-11-29T00:00:00Z',
      previous_version: '2.1.0+ferry.0.0.9',
      timestamp_installed: '2026-12-01T10:00:00.000Z',
    });
    expect(data.key_info['2.1.0+ferry.0.0.9'].previous_version).toBeNull();
  });
});
