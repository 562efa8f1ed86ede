import { rmSync, writeFileSync } from 'node:fs';
import type { Logger } from 'pino';
import { createServer, FERRY_VERSION, VAULT_API_VERSION, type Server } from './compose.js';
import { buildApp } from './app.js';
import { prepareUiAssets } from './ui-build.js';
import { listen, splitAddress, type RunningListener } from './http/server.js';
import { clusterServerTls } from './http/forward.js';
import { describeFlags, FlagError, flagOrEnv, HelpRequested, parseFlags, type FlagDef, type Flags } from './config/flags.js';
import {
  ConfigError,
  DEFAULT_MAX_REQUEST_SIZE,
  loadServerConfig,
  normaliseLevel,
  type ListenerConfig,
  type ListenerSettings,
  type ServerConfig,
} from './config/server-config.js';
import { listenerLimits } from './config/listener-limits.js';
import { LOG_LEVELS } from './config/schema.js';
import { createLogger, defaultLogFormat, routeProcessWarnings, type LogFormat } from './logging.js';

/** `ferry server`'s flags, declared once: parsing, `-h` and the README's table follow from them. */
const SERVER_FLAGS: FlagDef[] = [
  {
    name: 'config',
    kind: 'list',
    default: 'none',
    help: 'A configuration file (HCL or JSON) or a directory of them (*.hcl, *.json); may be given more than once, later files win',
  },
  { name: 'dev', kind: 'boolean', default: 'false', help: 'Run an in-memory, initialised and unsealed dev server with a root token' },
  { name: 'dev-root-token-id', kind: 'string', default: 'a random hvs. token', env: 'VAULT_DEV_ROOT_TOKEN_ID', help: 'Root token id of the dev server' },
  { name: 'dev-listen-address', kind: 'string', default: '127.0.0.1:8200', env: 'VAULT_DEV_LISTEN_ADDRESS', help: 'Address the dev server listens on' },
  {
    name: 'log-level',
    kind: 'string',
    default: 'info (or the configuration\'s log_level)',
    env: 'VAULT_LOG_LEVEL',
    help: `Log level: ${LOG_LEVELS.filter((l) => l !== 'warning' && l !== 'err').join(', ')}`,
  },
  {
    name: 'log-format',
    kind: 'string',
    default: 'standard on a terminal, json otherwise (or the configuration\'s log_format)',
    env: 'VAULT_LOG_FORMAT',
    help: 'Log format: standard (one readable line per entry) or json (one JSON object per line)',
  },
];

const USAGE = `Usage: ferry <command> [options]

Commands:
    server     Start a Ferry server
    version    Print the Ferry version

Run "ferry server -h" for the server's options.
`;

const SERVER_USAGE = `Usage: ferry server [options]

  Starts a Ferry server: a persistent one from a configuration (-config), or an
  in-memory dev server (-dev). Flags are Go-style like Vault's: one or two dashes,
  -flag=value or -flag value.

Server options:

${describeFlags(SERVER_FLAGS)}

Signals: SIGHUP reloads the log level and TLS certificates and reopens audit files;
SIGINT and SIGTERM stop the server.
`;

const flag = (name: string) => SERVER_FLAGS.find((f) => f.name === name);

/** The log level and format: the flag, else its environment variable, else the configuration, else the default. */
function logSettings(flags: Flags, config: ServerConfig | undefined): { level: string; format: LogFormat } {
  const level = normaliseLevel(flagOrEnv(flags, flag('log-level')) ?? config?.logLevel ?? 'info');
  if (!(LOG_LEVELS as readonly string[]).includes(level)) throw new FlagError(`invalid log level "${level}": expected one of ${LOG_LEVELS.join(', ')}`);
  const format = (flagOrEnv(flags, flag('log-format')) ?? config?.logFormat ?? defaultLogFormat()).trim().toLowerCase();
  if (format !== 'standard' && format !== 'json') throw new FlagError(`invalid log format "${format}": expected "standard" or "json"`);
  return { level, format };
}

const describeListener = (l: ListenerConfig) => `tcp (addr: "${l.address}", tls: "${l.tlsDisable ? 'disabled' : 'enabled'}")`;

/**
 * SIGHUP: re-reads the configuration and applies what can change while running — the log
 * level and the listeners' TLS certificate and key — reopens the audit files, and logs what
 * changed. A configuration that no longer loads changes nothing.
 */
async function reload(ctx: { flags: Flags; configPaths: string[]; log: Logger; server: Server; listeners: RunningListener[] }): Promise<void> {
  const { log } = ctx;
  log.info('reloading configuration (SIGHUP)');
  const changes: string[] = [];
  let config: ServerConfig | undefined;
  if (ctx.configPaths.length > 0) {
    try {
      config = loadServerConfig(ctx.configPaths);
    } catch (err) {
      log.error({ error: (err as Error).message }, 'reload failed: the configuration does not load; nothing changed');
      return;
    }
  }
  const { level } = logSettings(ctx.flags, config);
  if (level !== log.level) {
    changes.push(`log_level ${log.level} -> ${level}`);
    log.level = level;
  }
  for (const running of ctx.listeners) {
    try {
      if (await running.reloadTls()) changes.push(`TLS certificate and key of listener ${running.url}`);
    } catch (err) {
      log.error({ listener: running.url, error: (err as Error).message }, 'reload: the new TLS certificate or key was not loaded; the listener keeps the current one');
    }
  }
  const reopened = await ctx.server.security.audit.reopen();
  if (reopened > 0) changes.push(`reopened ${reopened} audit file${reopened === 1 ? '' : 's'}`);
  log.info({ changes }, changes.length > 0 ? 'configuration reloaded' : 'configuration reloaded: nothing changed');
}

/** Where HA's cluster listener listens and what the node advertises to the others. */
interface HaSettings {
  /** `host:port` the cluster listener binds. */
  clusterListen: string;
  /** `https://host:port` other nodes forward to (`cluster_addr`, `VAULT_CLUSTER_ADDR`). */
  clusterAddr: string;
}

/**
 * HA runs on PostgreSQL storage with `ha_enabled`. As in Vault, the cluster listener listens on
 * the first listener's `cluster_address`, else on its address with the port + 1, and the node
 * advertises `VAULT_CLUSTER_ADDR`, else `cluster_addr`, else that address (which must then be a
 * concrete one: other nodes cannot dial 0.0.0.0).
 */
function haSettings(config: ServerConfig | undefined, listeners: ListenerSettings[]): HaSettings | undefined {
  if (!haStorage(config)) return undefined;
  const first = listeners[0];
  if (!first) throw new ConfigError('ha_enabled needs a listener "tcp" stanza: the cluster listener is derived from it');
  const { host, port } = splitAddress(first.address);
  const clusterListen = first.clusterAddress ?? `${host.includes(':') ? `[${host}]` : host}:${port + 1}`;
  let clusterAddr = process.env.VAULT_CLUSTER_ADDR || config?.clusterAddr;
  if (!clusterAddr) {
    const bound = splitAddress(clusterListen).host;
    if (bound === '0.0.0.0' || bound === '::' || bound === '') {
      throw new ConfigError(`cluster_addr must be set when the cluster listener binds ${clusterListen}: the other nodes need an address they can reach`);
    }
    clusterAddr = `https://${clusterListen}`;
  }
  return { clusterListen, clusterAddr };
}

/** The PostgreSQL storage stanza's HA settings, when it enables HA. */
function haStorage(config: ServerConfig | undefined): boolean {
  const storage = config?.storage;
  return storage?.type === 'postgresql' && storage.haEnabled;
}

async function runServer(args: string[]): Promise<number> {
  let flags: Flags;
  try {
    ({ flags } = parseFlags(args, SERVER_FLAGS));
  } catch (err) {
    if (err instanceof HelpRequested) {
      process.stdout.write(SERVER_USAGE);
      return 0;
    }
    throw err;
  }
  const dev = flags.dev === true;
  const configPaths = (flags.config as string[] | undefined) ?? [];
  if (!dev && configPaths.length === 0) {
    process.stderr.write('A configuration file must be specified with -config, or run a dev server with -dev.\n\n' + SERVER_USAGE);
    return 1;
  }
  const config = configPaths.length > 0 ? loadServerConfig(configPaths) : undefined;
  const { level, format } = logSettings(flags, config);
  const log = createLogger(level, undefined, format);
  routeProcessWarnings(log);
  if (config && config.ignoredKeys.length > 0) {
    log.warn({ ignored: config.ignoredKeys }, 'the configuration sets Vault keys that Ferry accepts but does not act on');
  }

  let listeners: ListenerSettings[] = config?.listeners ?? [];
  const storage = config?.storage;
  const storagePath = storage?.type === 'sqlite' ? storage.path : ':memory:';
  if (dev) {
    const address = flagOrEnv(flags, flag('dev-listen-address')) ?? '127.0.0.1:8200';
    listeners = [
      { address, tlsDisable: true, maxRequestSize: DEFAULT_MAX_REQUEST_SIZE, telemetry: { unauthenticatedMetricsAccess: true }, ...listenerLimits({}) },
    ];
  }
  // Vault reads VAULT_API_ADDR over the configuration's api_addr.
  const apiAddr = process.env.VAULT_API_ADDR || config?.apiAddr;

  const ha = haSettings(config, listeners);
  const server = await createServer({
    storagePath,
    ...(storage?.type === 'postgresql'
      ? { postgres: { connectionUrl: storage.connectionUrl, haEnabled: storage.haEnabled, maxParallel: storage.maxParallel } }
      : {}),
    dev,
    devRootTokenId: flagOrEnv(flags, flag('dev-root-token-id')),
    apiAddr,
    logger: log,
    maxRequestSize: listeners[0]?.maxRequestSize ?? DEFAULT_MAX_REQUEST_SIZE,
    leaseTtls: config ? { defaultTtl: config.defaultLeaseTtl, maxTtl: config.maxLeaseTtl } : undefined,
    telemetry: config?.telemetry,
    ui: config?.ui,
    sync: config?.sync,
    ...(ha ? { ha: { clusterAddr: ha.clusterAddr } } : {}),
  });
  // The web UI at /ui/: when the configuration says `ui = true`, and always in dev mode (as Vault).
  const uiAssets = dev || config?.ui ? await prepareUiAssets(log) : undefined;
  const running: RunningListener[] = [];
  try {
    for (const l of listeners) {
      // Each listener has its own body limits (max_request_size, max_json_*), so its own app.
      const app = await buildApp({
        ...server.core,
        maxRequestSize: l.maxRequestSize,
        jsonLimits: l.jsonLimits,
        unauthenticatedMetricsAccess: l.telemetry.unauthenticatedMetricsAccess,
        uiAssets,
      });
      running.push(await listen(app, { ...l, log }));
    }
    if (ha && server.clusterPsk) {
      // Requests other nodes forward: TLS with the cluster key only, the first listener's limits.
      const first = listeners[0]!;
      const app = await buildApp({ ...server.core, maxRequestSize: first.maxRequestSize, jsonLimits: first.jsonLimits, clusterChannel: true });
      running.push(await listen(app, { ...first, address: ha.clusterListen, tlsDisable: false, tlsOptions: clusterServerTls(server.clusterPsk), log }));
    }
  } catch (err) {
    for (const r of running) await r.close();
    await server.close();
    throw err;
  }
  if (!apiAddr) server.core.info.apiAddr = running[0]!.url;
  // Secrets sync's background work; a sealed server delivers and sweeps nothing until unsealed.
  // With HA, the election: only the active node runs it.
  server.startBackground();
  if (config?.pidFile) writeFileSync(config.pidFile, `${process.pid}\n`, { mode: 0o644 });

  // Signal handlers are in place before the banner tells anyone the server is up.
  let reloading = Promise.resolve();
  const onHangup = () => {
    reloading = reloading.then(() => reload({ flags, configPaths, log, server, listeners: running })).catch((err: Error) => {
      log.error({ error: err.message }, 'reload failed');
    });
  };
  process.on('SIGHUP', onHangup);
  const stopped = new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      log.info({ signal }, 'shutting down');
      resolve();
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });

  const out: string[] = [
    '==> Ferry server configuration:',
    '',
    `             Api Address: ${server.core.info.apiAddr}`,
    ...listeners.map((l, i) => `              Listener ${i + 1}: ${describeListener(l)}`),
    `                  Storage: ${describeStorage(storage, dev)}`,
    ...(ha ? [`          Cluster Address: ${ha.clusterAddr}`, `               HA Enabled: true`] : []),
    `                Log Level: ${level}`,
    `                   Web UI: ${uiAssets ? `${server.core.info.apiAddr.replace(/\/$/, '')}/ui/` : 'off'}`,
    `                  Version: Ferry v${FERRY_VERSION} (Vault API ${VAULT_API_VERSION})`,
    '',
    '==> Ferry server started! Log data will stream in below:',
    '',
  ];
  if (dev) {
    out.push(
      'WARNING! dev mode is enabled! In this mode, Ferry runs entirely in-memory',
      'and starts unsealed with a single root token. Do not run dev mode in production!',
      '',
      'You may need to set the following environment variables:',
      '',
      `    $ export VAULT_ADDR='${running[0]!.url}'`,
      '',
      'The unseal key and root token are displayed below in case you want to',
      'seal/unseal the server or re-authenticate.',
      '',
      `Unseal Key: ${server.devUnsealKey}`,
      `Root Token: ${server.rootToken}`,
      '',
      'Development mode should NOT be used in production installations!',
      '',
    );
  } else {
    const status = server.core.seal.status();
    if (!status.initialized) out.push('The server is not initialized: run `vault operator init` (VAULT_ADDR set as above).', '');
    else if (status.sealed) out.push('The server is sealed: run `vault operator unseal` with the threshold of key shares.', '');
  }
  process.stdout.write(out.join('\n') + '\n');
  for (const r of running) log.info({ address: r.url }, 'ferry server listening');

  await stopped;
  process.off('SIGHUP', onHangup);
  await reloading;
  for (const r of running) await r.close();
  await server.stopBackground();
  await server.close();
  if (config?.pidFile) rmSync(config.pidFile, { force: true });
  return 0;
}

/** The banner's storage line; a PostgreSQL URL is shown without its password. */
function describeStorage(storage: ServerConfig['storage'] | undefined, dev: boolean): string {
  if (storage?.type === 'postgresql') {
    let where = 'the configured database';
    try {
      const url = new URL(storage.connectionUrl);
      where = `${url.hostname}${url.port ? `:${url.port}` : ''}${url.pathname}`;
    } catch {
      // A keyword/value connection string: not shown, it may hold the password.
    }
    return `postgresql (${where}, HA ${storage.haEnabled ? 'enabled' : 'disabled'})`;
  }
  if (!storage) return dev ? 'inmem' : 'sqlite';
  return `sqlite (path: "${storage.path}")`;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'server':
      return runServer(rest);
    case 'version':
    case '-version':
    case '--version':
      process.stdout.write(`Ferry v${FERRY_VERSION} (Vault API ${VAULT_API_VERSION})\n`);
      return 0;
    case undefined:
    case '-h':
    case '-help':
    case '--help':
    case 'help':
      process.stdout.write(USAGE);
      return 0;
    default:
      process.stderr.write(USAGE);
      return 1;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    if (err instanceof ConfigError || err instanceof FlagError) {
      process.stderr.write(`Error: ${err.message}\n`);
    } else {
      process.stderr.write(`Error starting Ferry: ${err instanceof Error ? err.message : String(err)}\n`);
    }
    process.exit(1);
  },
);
