import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadServerConfig } from '../../src/config/server-config.js';
import { tempDirForTest } from '../support/fixtures.js';

const LISTENER = 'listener "tcp" {\n  address = "127.0.0.1:8200"\n  tls_disable = true\n}\n';
const URL_ = 'postgres://ferry:s3cret@db.internal:5432/ferry?sslmode=verify-full';

function write(text: string): string {
  const file = join(tempDirForTest('ferry-config-'), 'ferry.hcl');
  writeFileSync(file, `${LISTENER}${text}`);
  return file;
}

function problems(file: string, env: NodeJS.ProcessEnv = {}): string {
  try {
    loadServerConfig(file, env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected the configuration to be refused');
}

describe('storage "postgresql"', () => {
  it("reads Vault's keys: connection_url, ha_enabled and max_parallel given as strings", () => {
    const file = write(`storage "postgresql" {\n  connection_url = "${URL_}"\n  ha_enabled = "true"\n  max_parallel = "32"\n}\n`);
    expect(loadServerConfig(file, {}).storage).toEqual({ type: 'postgresql', connectionUrl: URL_, haEnabled: true, maxParallel: 32 });
  });

  it('defaults: HA off, max_parallel left to the driver; the JSON form and `backend` are read too', () => {
    const file = join(tempDirForTest('ferry-config-'), 'ferry.json');
    writeFileSync(file, JSON.stringify({ listener: { tcp: { address: '127.0.0.1:8200', tls_disable: true } }, backend: { postgresql: { connection_url: URL_ } } }));
    expect(loadServerConfig(file, {}).storage).toEqual({ type: 'postgresql', connectionUrl: URL_, haEnabled: false });
  });

  it('VAULT_PG_CONNECTION_URL wins over connection_url, and may stand in for it, as in Vault', () => {
    const env = { VAULT_PG_CONNECTION_URL: 'postgres://from-env/ferry' };
    const withKey = write(`storage "postgresql" {\n  connection_url = "${URL_}"\n}\n`);
    expect(loadServerConfig(withKey, env).storage).toMatchObject({ connectionUrl: 'postgres://from-env/ferry' });
    const without = write('storage "postgresql" {\n  ha_enabled = true\n}\n');
    expect(loadServerConfig(without, env).storage).toEqual({ type: 'postgresql', connectionUrl: 'postgres://from-env/ferry', haEnabled: true });
  });

  it('without connection_url nor VAULT_PG_CONNECTION_URL the start is refused, naming the stanza', () => {
    const file = write('storage "postgresql" {\n  ha_enabled = "false"\n}\n');
    expect(problems(file)).toContain(`${file}, line 5: "storage.postgresql.connection_url" is required (or set VAULT_PG_CONNECTION_URL)`);
  });

  it('is strict: a typo is an error with a suggestion, bad values are errors, table names are refused, max_idle_connections is only named', () => {
    const typo = write(`storage "postgresql" {\n  conection_url = "${URL_}"\n}\n`);
    expect(problems(typo, { VAULT_PG_CONNECTION_URL: URL_ })).toContain(`line 6: unknown key "storage.postgresql.conection_url"; did you mean "connection_url"?`);
    const bad = write(`storage "postgresql" {\n  connection_url = "${URL_}"\n  ha_enabled = "maybe"\n  max_parallel = "0"\n}\n`);
    const message = problems(bad);
    expect(message).toContain('line 7: invalid value for "storage.postgresql.ha_enabled": expected a boolean, got "maybe"');
    expect(message).toContain('line 8: invalid value for "storage.postgresql.max_parallel": must be at least 1');
    const table = write(`storage "postgresql" {\n  connection_url = "${URL_}"\n  table = "vault_kv_store"\n}\n`);
    expect(problems(table)).toContain('line 7: "storage.postgresql.table" is refused: Ferry keeps its own tables (ferry_*)');
    const idle = write(`storage "postgresql" {\n  connection_url = "${URL_}"\n  max_idle_connections = "4"\n}\n`);
    expect(loadServerConfig(idle, {}).ignoredKeys).toEqual(['storage.postgresql.max_idle_connections']);
  });

  it('ha_storage is refused with the way to HA on Ferry', () => {
    const file = write(`storage "postgresql" {\n  connection_url = "${URL_}"\n}\nha_storage "consul" {\n}\n`);
    expect(problems(file)).toContain('ha_storage "consul" is refused: Ferry has no separate HA storage: remove the ha_storage stanza (for HA, use storage "postgresql" with ha_enabled = "true")');
  });
});
