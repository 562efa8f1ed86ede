import { describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { createSecretsSyncTokenSigner, describeIssuerWarnings, secretsSyncIssuer } from '../../src/identity/index.js';
import { createLogger } from '../../src/logging.js';
import { startTestServer, type TestServer } from '../support/app.js';
import { closeAfterTest } from '../support/fixtures.js';

describe('identity/oidc/config', () => {
  it('reads an empty issuer until one is set, then the issuer set', async () => {
    const t = closeAfterTest(await startTestServer({ apiAddr: 'https://ferry.example.com' }));
    expect((await t.call('GET', '/v1/identity/oidc/config')).json().data).toEqual({ issuer: '' });
    const res = await t.call('POST', '/v1/identity/oidc/config', { body: { issuer: 'https://vault.example.com' } });
    expect(res.statusCode).toBe(204);
    expect((await t.call('GET', '/v1/identity/oidc/config')).json().data).toEqual({ issuer: 'https://vault.example.com' });
  });

  it('stores the issuer as an origin: a trailing slash would break AWS byte-for-byte iss comparison', async () => {
    const t = closeAfterTest(await startTestServer());
    await t.call('POST', '/v1/identity/oidc/config', { body: { issuer: 'https://Vault.Example.com/' } });
    expect((await t.call('GET', '/v1/identity/oidc/config')).json().data.issuer).toBe('https://vault.example.com');
  });

  it('resets to api_addr with an empty issuer', async () => {
    const t = closeAfterTest(await startTestServer({ apiAddr: 'https://ferry.example.com' }));
    await t.call('POST', '/v1/identity/oidc/config', { body: { issuer: 'https://vault.example.com' } });
    expect((await t.call('POST', '/v1/identity/oidc/config', { body: { issuer: '' } })).statusCode).toBe(204);
    expect(await secretsSyncIssuer(t.server.core)).toBe('https://ferry.example.com/v1/identity/oidc/secrets-sync');
  });

  for (const bad of ['vault.example.com', 'ftp://vault.example.com', 'https://vault.example.com/v1', 'https://vault.example.com?x=1', 'https://u:p@vault.example.com', 'https://vault.example.com#f', 'not a url']) {
    it(`rejects an issuer that is more or less than scheme, host and port: ${bad}`, async () => {
      const t = closeAfterTest(await startTestServer());
      const res = await t.call('POST', '/v1/identity/oidc/config', { body: { issuer: bad } });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toEqual({
        errors: ['invalid issuer, which must include only a scheme, host, and optional port (e.g. https://example.com:8200)'],
      });
      expect((await t.call('GET', '/v1/identity/oidc/config')).json().data.issuer).toBe('');
    });
  }

  it('warns when the issuer set is not one AWS can use (http, a port)', async () => {
    const t = closeAfterTest(await startTestServer());
    const res = await t.call('POST', '/v1/identity/oidc/config', { body: { issuer: 'http://vault.example.com:8200' } });
    expect(res.statusCode).toBe(200);
    expect(res.json().warnings).toEqual([
      expect.stringContaining('is not https'),
      expect.stringContaining('carries a port'),
    ]);
  });

  it('requires a token', async () => {
    const t = closeAfterTest(await startTestServer());
    expect((await t.call('GET', '/v1/identity/oidc/config', { token: null })).statusCode).toBe(403);
  });
});

/** A logger whose lines the test reads. */
function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      lines.push(chunk.toString());
      cb();
    },
  });
  return { logger: createLogger('trace', stream as any), warnings: () => lines.map((l) => JSON.parse(l)).filter((e) => e.level === 40) };
}

describe('issuer warnings', () => {
  const signerOf = (t: TestServer, logger: ReturnType<typeof capture>['logger']) =>
    createSecretsSyncTokenSigner({ store: t.server.core.store, clock: t.server.core.clock, info: t.server.core.info, log: logger });

  it('are not logged at start, and once when a destination first uses web identity (unset, not https, a port)', async () => {
    const logs = capture();
    const t = closeAfterTest(await startTestServer({ apiAddr: 'http://127.0.0.1:8200', logger: logs.logger }));
    expect(logs.warnings()).toEqual([]);
    const signer = signerOf(t, logs.logger);
    await signer.mint({ destinationType: 'aws-sm', destinationName: 'wif-1', audience: 'sts.amazonaws.com' });
    await signer.mint({ destinationType: 'aws-sm', destinationName: 'wif-2', audience: 'sts.amazonaws.com' });
    expect(logs.warnings()).toHaveLength(1);
    expect(logs.warnings()[0].warnings).toEqual([
      'identity/oidc/config sets no "issuer": the secrets-sync OIDC issuer is built from api_addr (http://127.0.0.1:8200)',
      'the secrets-sync OIDC issuer http://127.0.0.1:8200/v1/identity/oidc/secrets-sync is not https: AWS fetches the discovery document and keys over HTTPS only',
      'the secrets-sync OIDC issuer http://127.0.0.1:8200/v1/identity/oidc/secrets-sync carries a port: an AWS IAM OIDC provider URL takes none, so set identity/oidc/config "issuer" to a URL without one',
    ]);
  });

  it('are silent once an https issuer without a port is set', async () => {
    const logs = capture();
    const t = closeAfterTest(await startTestServer({ apiAddr: 'http://127.0.0.1:8200', logger: logs.logger }));
    await t.call('POST', '/v1/identity/oidc/config', { body: { issuer: 'https://vault.example.com' } });
    await signerOf(t, logs.logger).mint({ destinationType: 'aws-sm', destinationName: 'wif-1', audience: 'sts.amazonaws.com' });
    expect(logs.warnings()).toEqual([]);
  });

  it('only note the fallback when api_addr itself is https without a port', () => {
    expect(describeIssuerWarnings('', 'https://ferry.example.com')).toEqual([
      'identity/oidc/config sets no "issuer": the secrets-sync OIDC issuer is built from api_addr (https://ferry.example.com)',
    ]);
  });

  it('say the issuer has no host when neither issuer nor api_addr is set', () => {
    expect(describeIssuerWarnings('', '')).toEqual([expect.stringContaining('neither identity/oidc/config "issuer" nor api_addr is set')]);
  });

  it('count an explicit port even when it is the scheme default', () => {
    expect(describeIssuerWarnings('', 'https://ferry.example.com:443')).toContainEqual(expect.stringContaining('carries a port'));
  });
});
