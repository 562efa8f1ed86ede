import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadServerConfig } from '../../src/config/server-config.js';
import { startTestServer } from '../support/app.js';
import { closeAfterTest, tempDirForTest } from '../support/fixtures.js';

const LISTENER = 'listener "tcp" {\n  address = "127.0.0.1:8200"\n  tls_disable = true\n}\n';
const STORAGE = 'storage "sqlite" {\n  path = "/var/lib/ferry/ferry.db"\n}\n';

function write(name: string, text: string): string {
  const dir = tempDirForTest('ferry-config-');
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

function problems(paths: string | string[]): string {
  try {
    loadServerConfig(paths);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected the configuration to be refused');
}

describe('strict configuration', () => {
  it('names the file, the line and the key of a typo, with a did-you-mean', () => {
    const file = write('ferry.hcl', `${STORAGE}listener "tcp" {\n  adress = "127.0.0.1:8300"\n  tls_disable = true\n}\n`);
    expect(problems(file)).toContain(`${file}, line 5: unknown key "listener.tcp.adress"; did you mean "address"?`);
  });

  it('reports every problem of a file at once, top-level keys and nested blocks alike', () => {
    const file = write('ferry.hcl', `${LISTENER}${STORAGE}telemetri {\n}\nlog_levl = "debug"\nfrobnicate = 1\n`);
    const message = problems(file);
    expect(message).toContain(`${file}, line 8: unknown key "telemetri"; did you mean "telemetry"?`);
    expect(message).toContain(`${file}, line 10: unknown key "log_levl"; did you mean "log_level"?`);
    expect(message).toMatch(new RegExp(`line 11: unknown key "frobnicate"\\n?$`));
  });

  it('refuses seal stanzas, ha_storage and storage types Ferry lacks by name', () => {
    const file = write('ferry.hcl', `${LISTENER}${STORAGE}seal "awskms" {\n  region = "us-east-1"\n}\nha_storage "consul" {\n}\n`);
    const message = problems(file);
    expect(message).toContain(`${file}, line 8: seal "awskms" is refused: auto-unseal is not supported`);
    expect(message).toContain(`${file}, line 11: ha_storage "consul" is refused`);
    const raft = write('ferry.hcl', `${LISTENER}storage "raft" {\n  path = "/data"\n}\n`);
    expect(problems(raft)).toContain(`${raft}, line 5: unsupported storage type "storage.raft": Ferry supports "sqlite"`);
  });

  it('refuses client-certificate verification it would not enforce', () => {
    const file = write('ferry.hcl', `listener "tcp" {\n  address = "127.0.0.1:8200"\n  tls_disable = true\n  tls_require_and_verify_client_cert = true\n}\n${STORAGE}`);
    expect(problems(file)).toContain('line 4: "listener.tcp.tls_require_and_verify_client_cert" is refused: Ferry does not verify client certificates');
  });

  it('gives lines for JSON configurations too', () => {
    const file = write(
      'ferry.json',
      JSON.stringify({ listener: [{ tcp: { address: '127.0.0.1:8200', tls_disable: true } }], storage: { sqlite: { path: '/x.db', pth: 1 } } }, null, 2),
    );
    expect(problems(file)).toMatch(/ferry\.json, line 13: unknown key "storage\.sqlite\.pth"; did you mean "path"\?/);
  });

  it('accepts the Vault keys Ferry does not act on, listing them', () => {
    const file = write(
      'ferry.hcl',
      `${LISTENER}${STORAGE}disable_mlock = true\ncluster_name = "prod"\ntelemetry {\n  statsd_address = "x:8125"\n  disable_hostname = true\n  metrics_prefix = "vault"\n  prefix_filter = ["+vault.core"]\n}\n`,
    );
    const config = loadServerConfig(file);
    expect(config.ignoredKeys).toEqual(['cluster_name', 'disable_mlock', 'telemetry.metrics_prefix', 'telemetry.prefix_filter', 'telemetry.statsd_address']);
    expect(config.telemetry).toEqual({ disable_hostname: true, enable_hostname_label: false, prometheus_retention_time: 86400 });
  });

  it('merges -config given twice and a directory, as Vault does: listeners add up, later values win', () => {
    const dir = tempDirForTest('ferry-config-dir-');
    mkdirSync(join(dir, 'conf.d'));
    writeFileSync(join(dir, 'conf.d', '10-listener.hcl'), LISTENER + 'log_level = "debug"\n');
    writeFileSync(join(dir, 'conf.d', '20-more.json'), JSON.stringify({ listener: { tcp: { address: '127.0.0.1:8201', tls_disable: true } } }));
    writeFileSync(join(dir, 'conf.d', 'notes.txt'), 'not a config');
    writeFileSync(join(dir, 'storage.hcl'), `${STORAGE}log_level = "warn"\n`);
    const config = loadServerConfig([join(dir, 'conf.d'), join(dir, 'storage.hcl')]);
    expect(config.files.map((f) => f.slice(dir.length + 1))).toEqual(['conf.d/10-listener.hcl', 'conf.d/20-more.json', 'storage.hcl']);
    expect(config.listeners.map((l) => l.address)).toEqual(['127.0.0.1:8200', '127.0.0.1:8201']);
    expect(config.storage).toEqual({ type: 'sqlite', path: '/var/lib/ferry/ferry.db' });
    expect(config.logLevel).toBe('warn');
  });

  it('reads default_lease_ttl and max_lease_ttl, refusing a default above the max', () => {
    const config = loadServerConfig(write('ferry.hcl', `${LISTENER}${STORAGE}default_lease_ttl = "1h"\nmax_lease_ttl = "2h"\n`));
    expect([config.defaultLeaseTtl, config.maxLeaseTtl]).toEqual([3600, 7200]);
    expect(problems(write('ferry.hcl', `${LISTENER}${STORAGE}max_lease_ttl = "1h"\n`))).toContain(
      '"default_lease_ttl" (2764800s) cannot be larger than "max_lease_ttl" (3600s)',
    );
  });
});

describe('the sync stanza', () => {
  it('reads allowed_endpoint_prefixes (none by default) and refuses a prefix that is not an http(s) URL, or a typo, by line', () => {
    expect(loadServerConfig(write('ferry.hcl', `${LISTENER}${STORAGE}`)).sync).toEqual({ allowedEndpointPrefixes: [] });
    const config = loadServerConfig(
      write('ferry.hcl', `${LISTENER}${STORAGE}sync {\n  allowed_endpoint_prefixes = ["https://vpce-1.secretsmanager.us-east-1.vpce.amazonaws.com", "http://127.0.0.1:4566/"]\n}\n`),
    );
    expect(config.sync.allowedEndpointPrefixes).toEqual(['https://vpce-1.secretsmanager.us-east-1.vpce.amazonaws.com', 'http://127.0.0.1:4566/']);
    expect(problems(write('ferry.hcl', `${LISTENER}${STORAGE}sync {\n  allowed_endpoint_prefixes = ["ftp://x", "not a url"]\n}\n`))).toMatch(
      /line 9: invalid value for "sync\.allowed_endpoint_prefixes": expected an http:\/\/ or https:\/\/ URL/,
    );
    expect(problems(write('ferry.hcl', `${LISTENER}${STORAGE}sync {\n  allowed_endpoints = []\n}\n`))).toContain(
      'line 9: unknown key "sync.allowed_endpoints"',
    );
  });
});

describe('lease TTLs from the configuration', () => {
  it('give tokens without a TTL the default and cap longer ones at the max, as Vault does', async () => {
    const t = closeAfterTest(await startTestServer({ leaseTtls: { defaultTtl: 3600, maxTtl: 7200 } }));
    const plain = await t.call('POST', '/v1/auth/token/create', { body: { policies: ['default'] } });
    expect(plain.json().auth.lease_duration).toBe(3600);
    const long = await t.call('POST', '/v1/auth/token/create', { body: { policies: ['default'], ttl: '5h' } });
    expect(long.json().auth.lease_duration).toBe(7200);
    expect(long.json().warnings).toEqual([expect.stringContaining('exceeded the effective max_ttl of "2h0m0s"')]);
    expect((await t.call('GET', '/v1/sys/mounts/secret/tune')).json().data).toMatchObject({ default_lease_ttl: 3600, max_lease_ttl: 7200 });
  });
});
