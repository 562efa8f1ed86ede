import { createServer, FERRY_VERSION } from './compose.js';
import { buildApp } from './app.js';
import { listen, type ListenerOptions } from './http/server.js';
import { FlagError, parseFlags } from './config/flags.js';
import { ConfigError, DEFAULT_MAX_REQUEST_SIZE, loadServerConfig } from './config/server-config.js';
import { createLogger } from './logging.js';
import { describeIssuerWarnings, issuerWarnings } from './identity/index.js';

const USAGE = `Usage: ferry <command> [options]

Commands:
    server     Start a Ferry server
    version    Print the Ferry version

Server options:
    -dev                         Run an in-memory, unsealed dev server with a root token
    -dev-root-token-id=<id>      Root token id of the dev server (env VAULT_DEV_ROOT_TOKEN_ID)
    -dev-listen-address=<addr>   Dev listen address, default 127.0.0.1:8200 (env VAULT_DEV_LISTEN_ADDRESS)
    -config=<file>               HCL or JSON configuration file for a persistent server
    -log-level=<level>           trace, debug, info, warn, error
`;

async function runServer(args: string[]): Promise<number> {
  const { flags } = parseFlags(args, {
    boolean: ['dev'],
    string: ['dev-root-token-id', 'dev-listen-address', 'config', 'log-level'],
  });
  const dev = flags.dev === true;
  if (!dev && typeof flags.config !== 'string') {
    process.stderr.write('A configuration file must be specified with -config, or run a dev server with -dev.\n\n' + USAGE);
    return 1;
  }

  let listener: ListenerOptions = { address: '127.0.0.1:8200', tlsDisable: true };
  let storagePath = ':memory:';
  let apiAddr: string | undefined;
  let logLevel = (flags['log-level'] as string | undefined) ?? process.env.VAULT_LOG_LEVEL ?? 'info';
  let maxRequestSize = DEFAULT_MAX_REQUEST_SIZE;

  if (typeof flags.config === 'string') {
    const config = loadServerConfig(flags.config);
    listener = { ...config.listener };
    maxRequestSize = config.listener.maxRequestSize;
    storagePath = config.storage.path;
    apiAddr = config.apiAddr;
    if (!flags['log-level']) logLevel = config.logLevel;
  }
  if (dev) {
    listener = {
      ...listener,
      address: (flags['dev-listen-address'] as string | undefined) ?? process.env.VAULT_DEV_LISTEN_ADDRESS ?? '127.0.0.1:8200',
      tlsDisable: true,
    };
    if (typeof flags.config !== 'string') storagePath = ':memory:';
  }

  const log = createLogger(logLevel);
  const server = await createServer({
    storagePath,
    dev,
    devRootTokenId: (flags['dev-root-token-id'] as string | undefined) ?? process.env.VAULT_DEV_ROOT_TOKEN_ID,
    apiAddr,
    logger: log,
    maxRequestSize,
  });
  // Secrets sync's background work; a sealed server delivers and sweeps nothing until unsealed.
  server.sync.worker.start();
  server.expirySweep.start();
  const app = await buildApp(server.core);
  const running = await listen(app, listener);
  if (!apiAddr) server.core.info.apiAddr = running.url;

  const out: string[] = [
    '==> Ferry server configuration:',
    '',
    `             Api Address: ${server.core.info.apiAddr}`,
    `                 Listener: tcp (addr: "${listener.address}", tls: "${listener.tlsDisable ? 'disabled' : 'enabled'}")`,
    `                  Storage: ${dev && storagePath === ':memory:' ? 'inmem' : `sqlite (path: "${storagePath}")`}`,
    `                  Version: Ferry v${FERRY_VERSION}`,
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
      `    $ export VAULT_ADDR='${running.url}'`,
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
  }
  if (!dev) {
    const status = server.core.seal.status();
    if (!status.initialized) out.push('The server is not initialized: run `vault operator init` (VAULT_ADDR set as above).', '');
    else if (status.sealed) out.push('The server is sealed: run `vault operator unseal` with the threshold of key shares.', '');
  }
  process.stdout.write(out.join('\n') + '\n');
  log.info({ address: running.url }, 'ferry server listening');
  // AWS must reach the secrets-sync OIDC issuer over HTTPS on a URL without a port; say so early.
  const warnings = server.core.seal.status().sealed
    ? describeIssuerWarnings('', server.core.info.apiAddr)
    : await issuerWarnings(server.core);
  for (const warning of warnings) log.warn(warning);

  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      log.info({ signal }, 'shutting down');
      resolve();
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
  await running.close();
  await server.expirySweep.stop();
  await server.sync.worker.stop();
  await server.close();
  return 0;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'server':
      return runServer(rest);
    case 'version':
    case '-version':
    case '--version':
      process.stdout.write(`Ferry v${FERRY_VERSION}\n`);
      return 0;
    default:
      process.stderr.write(USAGE);
      return command === undefined || command === '-h' || command === '--help' || command === 'help' ? 0 : 1;
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
