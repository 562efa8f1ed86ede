import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { tempDirForTest } from '../support/fixtures.js';
import { runFerry } from '../support/process.js';

/** `ferry` with these arguments, stopped when the test finishes. */
const start = (args: string[], env: Record<string, string> = {}) => {
  const p = runFerry(args, env);
  onTestFinished(() => p.stop());
  return p;
};

describe('ferry server -dev', () => {
  it('prints the address, the VAULT_ADDR export line and the given root token, and serves it', async () => {
    const p = start(['server', '-dev', '-dev-root-token-id=root', '-dev-listen-address', '127.0.0.1:0']);
    const [, addr] = await p.waitFor(/export VAULT_ADDR='(http:\/\/127\.0\.0\.1:\d+)'/);
    await p.waitFor(/Root Token: root\n/);
    const res = await fetch(`${addr}/v1/auth/token/lookup-self`, { headers: { 'X-Vault-Token': 'root' } });
    expect(res.status).toBe(200);
    expect(((await res.json()) as any).data.policies).toEqual(['root']);
    const mounts: any = await (await fetch(`${addr}/v1/sys/mounts/secret`, { headers: { 'X-Vault-Token': 'root' } })).json();
    expect(mounts.data).toMatchObject({ type: 'kv', options: { version: '2' } });
    // As `vault server -dev`: sys/metrics needs no token, Prometheus' form is on, gauges carry no hostname.
    const metrics = await fetch(`${addr}/v1/sys/metrics?format=prometheus`);
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toMatch(/^ferry_core_unsealed 1$/m);
  });

  it('reads VAULT_DEV_ROOT_TOKEN_ID and VAULT_DEV_LISTEN_ADDRESS', async () => {
    const p = start(['server', '-dev'], { VAULT_DEV_ROOT_TOKEN_ID: 'from-env', VAULT_DEV_LISTEN_ADDRESS: '127.0.0.1:0' });
    await p.waitFor(/Root Token: from-env\n/);
    const [, addr] = await p.waitFor(/export VAULT_ADDR='(http:\/\/[^']+)'/);
    const res = await fetch(`${addr}/v1/auth/token/lookup-self`, { headers: { 'X-Vault-Token': 'from-env' } });
    expect(res.status).toBe(200);
  });

  it('generates a random root token when none is given', async () => {
    const p = start(['server', '-dev', '--dev-listen-address=127.0.0.1:0']);
    const [, token] = await p.waitFor(/Root Token: (\S+)\n/);
    expect(token).toMatch(/^hvs\.[A-Za-z0-9_-]{20,}$/);
  });

  it('refuses an unknown flag with a clear message', async () => {
    const p = start(['server', '-dev', '-no-such-flag']);
    expect(await p.exited).toBe(1);
    expect(p.stderr()).toContain('flag provided but not defined: -no-such-flag');
  });
});

describe('ferry server -config', () => {
  const dir = () => tempDirForTest('ferry-cfg-');

  it('stops with a message naming the key and the file for a bad value', async () => {
    const d = dir();
    const file = path.join(d, 'ferry.hcl');
    fs.writeFileSync(file, `listener "tcp" {\n  address = "127.0.0.1:0"\n  tls_disable = "maybe"\n}\nstorage "sqlite" { path = "${d}/f.db" }\n`);
    const p = start(['server', `-config=${file}`]);
    expect(await p.exited).toBe(1);
    expect(p.stderr()).toContain(file);
    expect(p.stderr()).toContain('listener.tcp.tls_disable');
  });

  it('stops with the line number for an HCL syntax error', async () => {
    const d = dir();
    const file = path.join(d, 'ferry.hcl');
    fs.writeFileSync(file, `listener "tcp" {\n  address "127.0.0.1:0"\n}\n`);
    const p = start(['server', '-config', file]);
    expect(await p.exited).toBe(1);
    expect(p.stderr()).toMatch(/line 2/);
    expect(p.stderr()).toContain(file);
  });

  it('refuses an unsupported storage type, naming it', async () => {
    const d = dir();
    const file = path.join(d, 'ferry.json');
    fs.writeFileSync(file, JSON.stringify({ listener: { tcp: { address: '127.0.0.1:0', tls_disable: true } }, storage: { raft: { path: d } } }));
    const p = start(['server', '-config', file]);
    expect(await p.exited).toBe(1);
    expect(p.stderr()).toContain('storage.raft');
  });

  it('starts a persistent server from an HCL config', async () => {
    const d = dir();
    const file = path.join(d, 'ferry.hcl');
    fs.writeFileSync(
      file,
      `# Vault-style config\nlistener "tcp" {\n  address     = "127.0.0.1:0"\n  tls_disable = 1\n}\nstorage "sqlite" {\n  path = "${d}/ferry.db"\n}\napi_addr = "http://127.0.0.1:8200"\nlog_level = "warn"\n`,
    );
    const p = start(['server', `-config=${file}`]);
    const [, listenerLine] = await p.waitFor(/Listener 1: tcp \(addr: "([^"]+)"/);
    expect(listenerLine).toBe('127.0.0.1:0');
    await p.waitFor(/Ferry server started/);
    expect(fs.existsSync(path.join(d, 'ferry.db'))).toBe(true);
  });
});
