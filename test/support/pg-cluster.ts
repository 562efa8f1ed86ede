/**
 * Throwaway PostgreSQL clusters for tests and benchmarks (no vitest here, so `bench/` can use it):
 * `initdb` and `pg_ctl` from Debian's server binaries, in a temporary directory, on a free
 * loopback port; as root the server runs as `postgres` (PostgreSQL refuses root). Also a TCP
 * proxy to cut a client off from a server. See `postgres.ts` for how tests get a database.
 */
import { spawn, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The connection URL given by the environment, if any. */
export const PG_ENV_URL = process.env.FERRY_TEST_PG_URL || process.env.VAULT_PG_CONNECTION_URL || '';

/** The directory of the newest PostgreSQL server binaries installed, if any. */
function findBinDir(): string | undefined {
  if (process.env.FERRY_PG_BIN) return existsSync(join(process.env.FERRY_PG_BIN, 'initdb')) ? process.env.FERRY_PG_BIN : undefined;
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, 'bin', 'initdb')) && existsSync(join(root, v, 'bin', 'pg_ctl')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] === undefined ? undefined : join(root, versions[0], 'bin');
}

const BIN_DIR = findBinDir();
const IS_ROOT = process.getuid?.() === 0;
/** As root, the server runs as `postgres`, through runuser (PostgreSQL refuses root). */
const CAN_RUN_AS_POSTGRES = !IS_ROOT || (existsSync('/usr/sbin/runuser') && spawnSync('id', ['-u', 'postgres']).status === 0);

/** Whether this machine can start a throwaway PostgreSQL cluster of its own. */
export const PG_LOCAL_CLUSTERS = BIN_DIR !== undefined && CAN_RUN_AS_POSTGRES;

/** Whether the PostgreSQL suites can run here at all. */
export const PG_AVAILABLE = PG_ENV_URL !== '' || PG_LOCAL_CLUSTERS;

/** Why the PostgreSQL suites are skipped, and how to run them; empty when they run. */
export const PG_SKIP_REASON = PG_AVAILABLE
  ? ''
  : 'PostgreSQL suites skipped: no FERRY_TEST_PG_URL (or VAULT_PG_CONNECTION_URL) is set and no PostgreSQL server binaries ' +
    '(/usr/lib/postgresql/<version>/bin/initdb, or FERRY_PG_BIN) are installed' +
    (BIN_DIR !== undefined && !CAN_RUN_AS_POSTGRES ? ' that can run here (as root they need runuser and a postgres user)' : '') +
    '. To run them: `apt-get install postgresql` (the tests start a throwaway cluster themselves), or point ' +
    'FERRY_TEST_PG_URL at a server whose role may CREATE DATABASE (postgres://user:pass@host:5432/postgres).';

/** A PostgreSQL cluster this process started, in a temporary directory. */
export interface LocalPostgres {
  port: number;
  dataDir: string;
  /** The URL of one of its databases (`postgres` by default), as the superuser `postgres`, without password. */
  url(database?: string): string;
  /** Stops the server: `fast` (clients disconnected, clean shutdown) or `immediate` (as a crash: recovery at the next start). */
  stop(mode?: 'fast' | 'immediate'): Promise<void>;
  /** Starts it again on the same port; resolves once it accepts connections. */
  start(): Promise<void>;
  /** Stops it for good and removes its directory. */
  destroy(): Promise<void>;
}

export interface ClusterOptions {
  /**
   * Keep PostgreSQL's durability settings (fsync on). Off by default: tests need committed
   * transactions to survive the server process (WAL is still written at every commit), not the machine.
   */
  durable?: boolean;
  /**
   * The process whose death means nobody needs the cluster any more (default: this one). A
   * later run's global setup stops clusters whose owner is gone, should a run die before its teardown.
   */
  ownerPid?: number;
}

/** Runs one of the server binaries (as `postgres` when we are root); rejects with its output on failure. */
function runPgBinary(binary: string, args: string[]): Promise<void> {
  const path = join(BIN_DIR!, binary);
  const [command, argv] = IS_ROOT ? ['/usr/sbin/runuser', ['-u', 'postgres', '--', path, ...args]] : [path, args];
  return new Promise((resolve, reject) => {
    // Detached, with its own output file: the postmaster pg_ctl leaves running must not hold our pipes.
    const child = spawn(command, argv, { stdio: ['ignore', 'pipe', 'pipe'], cwd: tmpdir() });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${binary} ${args.join(' ')} exited with ${code}: ${out.trim()}`))));
  });
}

/** A loopback port nobody listens on right now. */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Creates and starts a throwaway cluster: `initdb` into a fresh temporary directory, then
 * `pg_ctl start` on a free loopback port (no Unix socket outside the directory, trust auth for
 * the loopback only). Needs `PG_LOCAL_CLUSTERS`.
 */
export async function startPostgresCluster(opts: ClusterOptions = {}): Promise<LocalPostgres> {
  if (!PG_LOCAL_CLUSTERS) throw new Error(PG_SKIP_REASON || 'this machine cannot start a PostgreSQL cluster of its own');
  const dir = mkdtempSync(join(tmpdir(), 'ferry-pg-'));
  const dataDir = join(dir, 'data');
  mkdirSync(dataDir, { mode: 0o700 });
  if (IS_ROOT) {
    const [uid, gid] = ['-u', '-g'].map((flag) => Number(spawnSync('id', [flag, 'postgres']).stdout.toString().trim()));
    chownSync(dir, uid!, gid!);
    chownSync(dataDir, uid!, gid!);
  }
  writeFileSync(join(dir, 'owner.pid'), String(opts.ownerPid ?? process.pid));
  await runPgBinary('initdb', ['-D', dataDir, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--no-locale', '--no-sync', '--no-instructions']);
  const port = await freePort();
  const settings = [
    `port = ${port}`,
    "listen_addresses = '127.0.0.1'",
    `unix_socket_directories = '${dir}'`,
    'max_connections = 200',
    'shared_buffers = 32MB',
    ...(opts.durable ? [] : ['fsync = off', 'full_page_writes = off']),
  ];
  writeFileSync(join(dataDir, 'postgresql.conf'), `\n# Ferry's test cluster\n${settings.join('\n')}\n`, { flag: 'a' });
  const log = join(dir, 'server.log');
  const start = () => runPgBinary('pg_ctl', ['-D', dataDir, '-l', log, '-w', '-t', '60', 'start']);
  const stop = (mode: 'fast' | 'immediate' = 'fast') => runPgBinary('pg_ctl', ['-D', dataDir, '-m', mode, '-w', '-t', '60', 'stop']);
  try {
    await start();
  } catch (err) {
    const tail = existsSync(log) ? readFileSync(log, 'utf8').slice(-2000) : '';
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`the PostgreSQL test cluster did not start: ${(err as Error).message}\n${tail}`, { cause: err });
  }
  let destroyed = false;
  return {
    port,
    dataDir,
    url: (database = 'postgres') => `postgres://postgres@127.0.0.1:${port}/${database}`,
    stop,
    start,
    destroy: async () => {
      if (destroyed) return;
      destroyed = true;
      await stop('immediate').catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Stops the cluster in `clusterDir` (made by `startPostgresCluster`) at once, synchronously (for
 * exit handlers and global teardown), and removes the directory.
 */
export function stopClusterSync(clusterDir: string): void {
  const dataDir = join(clusterDir, 'data');
  if (BIN_DIR && existsSync(join(dataDir, 'postmaster.pid'))) {
    const pgCtl = join(BIN_DIR, 'pg_ctl');
    const args = ['-D', dataDir, '-m', 'immediate', '-w', 'stop'];
    if (IS_ROOT) spawnSync('/usr/sbin/runuser', ['-u', 'postgres', '--', pgCtl, ...args]);
    else spawnSync(pgCtl, args);
  }
  rmSync(clusterDir, { recursive: true, force: true });
}

/**
 * Stops the clusters of earlier runs that died before their teardown: those whose owner process
 * (`ClusterOptions.ownerPid`) is gone.
 */
export function sweepAbandonedClusters(): void {
  for (const name of readdirSync(tmpdir())) {
    if (!name.startsWith('ferry-pg-')) continue;
    const dir = join(tmpdir(), name);
    const ownerFile = join(dir, 'owner.pid');
    if (!existsSync(ownerFile)) continue;
    const owner = Number(readFileSync(ownerFile, 'utf8'));
    let alive = true;
    try {
      process.kill(owner, 0);
    } catch {
      alive = false;
    }
    if (owner > 0 && !alive) stopClusterSync(dir);
  }
}

/** A TCP proxy in front of a server, to cut a client off from it without touching the server. */
export interface TcpProxy {
  port: number;
  /** Forwards (the default); resolves once it listens again. Connections cut off by `blackhole` are closed first. */
  accept(): Promise<void>;
  /** Closes every connection and stops listening: new connections are refused, as by a stopped server. */
  refuse(): void;
  /** Keeps every connection open and accepts new ones, but passes nothing on: a server that hangs, or a network that drops everything. */
  blackhole(): void;
  close(): Promise<void>;
}

/** Starts a loopback proxy to `host:targetPort` on a free port. */
export async function startTcpProxy(targetPort: number, host = '127.0.0.1'): Promise<TcpProxy> {
  let mode: 'accept' | 'blackhole' = 'accept';
  const sockets = new Set<Socket>();
  const silenced = new Set<Socket>();
  const server = createServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => undefined);
    if (mode === 'blackhole') {
      silenced.add(client);
      return;
    }
    const upstream = connect(targetPort, host);
    sockets.add(upstream);
    upstream.on('close', () => {
      sockets.delete(upstream);
      client.destroy();
    });
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
    client.on('data', (chunk) => (mode === 'accept' && !silenced.has(client) ? upstream.write(chunk) : undefined));
    upstream.on('data', (chunk) => (mode === 'accept' && !silenced.has(client) ? client.write(chunk) : undefined));
  });
  const listenOn = (port: number) =>
    new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
    });
  const port = await listenOn(0);
  const destroyAll = () => {
    for (const s of sockets) s.destroy();
    silenced.clear();
  };
  return {
    port,
    accept: async () => {
      if (mode === 'blackhole') destroyAll();
      mode = 'accept';
      if (!server.listening) await listenOn(port);
    },
    refuse: () => {
      server.close();
      destroyAll();
    },
    blackhole: () => {
      mode = 'blackhole';
      // The client side of each pair (accepted here, so on our port); its upstream is silenced with it.
      for (const s of sockets) if (s.localPort === port) silenced.add(s);
    },
    close: async () => {
      destroyAll();
      if (server.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
