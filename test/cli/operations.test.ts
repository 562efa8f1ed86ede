import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import tls from 'node:tls';
import { describe, expect, it, onTestFinished } from 'vitest';
import { tempDirForTest } from '../support/fixtures.js';
import { runFerry } from '../support/process.js';

const start = (args: string[], env: Record<string, string> = {}) => {
  const p = runFerry(args, env);
  onTestFinished(() => p.stop());
  return p;
};

/** The JSON log entries a process wrote to stderr. */
const logEntries = (stderr: string) =>
  stderr
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, any>);

/** A loopback port nothing listens on (bound, then released). */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const refused = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => (socket.destroy(), resolve(false)));
    socket.once('error', () => resolve(true));
  });

describe('ferry server -config: strict configuration', () => {
  const cases: Array<[string, (port: number) => string, RegExp]> = [
    ['a typo (adress)', (port) => `listener "tcp" {\n  adress = "127.0.0.1:${port}"\n  tls_disable = true\n}\n`, /line 2: unknown key "listener\.tcp\.adress"; did you mean "address"\?/],
    ['seal "awskms"', (port) => `listener "tcp" {\n  address = "127.0.0.1:${port}"\n  tls_disable = true\n}\nseal "awskms" {\n  kms_key_id = "k"\n}\n`, /line 5: seal "awskms" is refused/],
    ['an unknown block', (port) => `listener "tcp" {\n  address = "127.0.0.1:${port}"\n  tls_disable = true\n}\nreplicaton {\n}\n`, /line 5: unknown key "replicaton"; did you mean "replication"\?/],
  ];
  for (const [what, config, message] of cases) {
    it(`exits non-zero for ${what}, printing the file, line and key, and nothing listens`, async () => {
      const dir = tempDirForTest('ferry-strict-');
      const port = await freePort();
      const file = join(dir, 'ferry.hcl');
      writeFileSync(file, `${config(port)}storage "sqlite" {\n  path = "${dir}/ferry.db"\n}\n`);
      const p = start(['server', `-config=${file}`]);
      expect(await p.exited).toBe(1);
      expect(p.stderr()).toContain(file);
      expect(p.stderr()).toMatch(message);
      expect(await refused(port)).toBe(true);
    });
  }

  it('starts with disable_mlock and cluster_name, printing one WARN line naming them', async () => {
    const dir = tempDirForTest('ferry-strict-');
    const file = join(dir, 'ferry.hcl');
    writeFileSync(
      file,
      `listener "tcp" {\n  address = "127.0.0.1:0"\n  tls_disable = true\n}\nstorage "sqlite" {\n  path = "${dir}/ferry.db"\n}\ndisable_mlock = true\ncluster_name = "prod"\n`,
    );
    const p = start(['server', `-config=${file}`, '-log-format=json']);
    const [, addr] = await p.waitFor(/Api Address: (http:\/\/\S+)/);
    expect((await fetch(`${addr}/v1/sys/health`)).status).toBe(501);
    await p.stop();
    const warnings = logEntries(p.stderr()).filter((e) => e.level === 40);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.ignored).toEqual(['cluster_name', 'disable_mlock']);
  });
});

describe('usage and quiet defaults', () => {
  it('`ferry server -h` lists every flag with its default and exits 0; `ferry -h` too', async () => {
    const p = start(['server', '-h']);
    expect(await p.exited).toBe(0);
    for (const flag of ['-config=<path>', '-dev', '-dev-root-token-id=<string>', '-dev-listen-address=<string>', '-log-level=<string>', '-log-format=<string>']) {
      expect(p.stdout()).toContain(`  ${flag}\n`);
    }
    expect(p.stdout().match(/Default: /g)).toHaveLength(6);
    expect(p.stdout()).toContain('Default: 127.0.0.1:8200. Environment: VAULT_DEV_LISTEN_ADDRESS.');
    const top = start(['--help']);
    expect(await top.exited).toBe(0);
    expect(top.stdout()).toContain('ferry server -h');
  });

  it('a dev start prints no WARN line, in either log format', async () => {
    for (const format of ['json', 'standard']) {
      const p = start(['server', '-dev', '-dev-listen-address=127.0.0.1:0', `-log-format=${format}`]);
      const [, addr] = await p.waitFor(/export VAULT_ADDR='([^']+)'/);
      expect((await fetch(`${addr}/v1/sys/health`)).status).toBe(200);
      await p.stop();
      expect(p.stderr()).toContain('ferry server listening');
      expect(p.stderr()).not.toMatch(/WARN|"level":40|Warning/);
      if (format === 'standard') expect(p.stderr()).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z \[INFO\] {2}ferry server listening: address=http/m);
    }
  });
});

/** A self-signed certificate for 127.0.0.1 (openssl), written to `dir`. */
function makeCertificate(dir: string, name: string): { cert: string; key: string } {
  const cert = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
    '-subj', `/CN=${name}`, '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', key, '-out', cert,
  ], { stdio: 'ignore' });
  return { cert, key };
}

/** A TLS connection and the name its server presented. */
async function connectTls(port: number): Promise<{ socket: tls.TLSSocket; presented: string }> {
  const socket = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false });
  await new Promise<void>((resolve, reject) => socket.once('secureConnect', resolve).once('error', reject));
  return { socket, presented: socket.getPeerCertificate().subject.CN as string };
}

/** One keep-alive HTTP/1.1 request over an open socket; resolves the status line. */
function requestOver(socket: tls.TLSSocket): Promise<string> {
  return new Promise((resolve) => {
    socket.once('data', (chunk) => resolve(chunk.toString().split('\r\n')[0]!));
    socket.write('GET /v1/sys/health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n');
  });
}

describe('SIGHUP', () => {
  it('reloads log_level and the TLS certificate: open connections stay, new handshakes present the new certificate', async () => {
    const dir = tempDirForTest('ferry-hup-');
    const a = makeCertificate(dir, 'cert-a');
    const b = makeCertificate(dir, 'cert-b');
    const file = join(dir, 'ferry.hcl');
    const config = (level: string) =>
      `listener "tcp" {\n  address = "127.0.0.1:0"\n  tls_cert_file = "${dir}/live.crt"\n  tls_key_file = "${dir}/live.key"\n}\n` +
      `storage "sqlite" {\n  path = "${dir}/ferry.db"\n}\nlog_level = "${level}"\n`;
    const install = (pair: { cert: string; key: string }) => {
      execFileSync('cp', [pair.cert, join(dir, 'live.crt')]);
      execFileSync('cp', [pair.key, join(dir, 'live.key')]);
    };
    install(a);
    writeFileSync(file, config('info'));
    const p = start(['server', `-config=${file}`, '-log-format=json']);
    const [, port] = await p.waitFor(/Api Address: https:\/\/127\.0\.0\.1:(\d+)/);
    await p.waitFor(/Ferry server started/);

    const before = await connectTls(Number(port));
    onTestFinished(() => void before.socket.destroy());
    expect(before.presented).toBe('cert-a');
    expect(await requestOver(before.socket)).toBe('HTTP/1.1 501 Not Implemented');

    install(b);
    writeFileSync(file, config('debug'));
    p.child.kill('SIGHUP');
    await expect.poll(() => logEntries(p.stderr()).find((e) => e.msg === 'configuration reloaded'), { timeout: 15_000 }).toBeDefined();
    const reloaded = logEntries(p.stderr()).find((e) => e.msg === 'configuration reloaded')!;
    expect(reloaded.changes).toEqual(['log_level info -> debug', `TLS certificate and key of listener https://127.0.0.1:${port}`]);

    const after = await connectTls(Number(port));
    onTestFinished(() => void after.socket.destroy());
    expect(after.presented).toBe('cert-b');
    // The connection made before the reload is still open and served.
    expect(await requestOver(before.socket)).toBe('HTTP/1.1 501 Not Implemented');
    // debug now: requests are logged.
    await requestOver(after.socket);
    await expect.poll(() => logEntries(p.stderr()).some((e) => e.msg === 'request' && e.level === 20), { timeout: 15_000 }).toBe(true);
    expect(p.child.exitCode).toBeNull();
  });

  it('keeps the running configuration when the new one does not load', async () => {
    const dir = tempDirForTest('ferry-hup-');
    const file = join(dir, 'ferry.hcl');
    const base = `listener "tcp" {\n  address = "127.0.0.1:0"\n  tls_disable = true\n}\nstorage "sqlite" {\n  path = "${dir}/ferry.db"\n}\n`;
    writeFileSync(file, base);
    const p = start(['server', `-config=${file}`, '-log-format=json']);
    const [, addr] = await p.waitFor(/Api Address: (http:\/\/\S+)/);
    await p.waitFor(/Ferry server started/);
    writeFileSync(file, `${base}log_levle = "debug"\n`);
    p.child.kill('SIGHUP');
    await expect.poll(() => logEntries(p.stderr()).find((e) => e.level === 50), { timeout: 15_000 }).toBeDefined();
    expect(logEntries(p.stderr()).find((e) => e.level === 50)!.error).toContain('unknown key "log_levle"');
    expect((await fetch(`${addr}/v1/sys/health`)).status).toBe(501);
  });
});
