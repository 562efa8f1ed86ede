import { describe, expect, it } from 'vitest';
import { useTestServer } from '../support/fixtures.js';
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
