/**
 * Standalone entry: `npm run aws-emulator -- [--port 4566] [--host 127.0.0.1] [--require-https-issuer]
 * [--account-id N] [--purge-lag-ms N] [--listing-lag-ms N]`.
 * Prints one line with the endpoint, then serves until SIGINT/SIGTERM.
 */
import { parseArgs } from 'node:util';
import { startAwsEmulator } from './index.js';

const USAGE =
  'usage: aws-emulator [--port N] [--host H] [--require-https-issuer] [--account-id 123456789012] [--purge-lag-ms N] [--listing-lag-ms N]';

/** A non-negative integer option, or exit 2. */
function milliseconds(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) {
    console.error(`invalid --${name} ${value}\n${USAGE}`);
    process.exit(2);
  }
  return Number(value);
}

async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        port: { type: 'string', default: '4566' },
        host: { type: 'string', default: '127.0.0.1' },
        'require-https-issuer': { type: 'boolean', default: false },
        'account-id': { type: 'string' },
        'purge-lag-ms': { type: 'string' },
        'listing-lag-ms': { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
    }));
  } catch (e) {
    console.error(`${(e as Error).message}\n${USAGE}`);
    process.exit(2);
  }
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    console.error(`invalid --port ${values.port}\n${USAGE}`);
    process.exit(2);
  }
  const purgeLagMs = milliseconds('purge-lag-ms', values['purge-lag-ms']);
  const listingLagMs = milliseconds('listing-lag-ms', values['listing-lag-ms']);
  const emu = await startAwsEmulator({
    port,
    host: values.host,
    requireHttpsIssuer: values['require-https-issuer'],
    ...(values['account-id'] !== undefined ? { defaultAccountId: values['account-id'] } : {}),
    ...(purgeLagMs !== undefined ? { purgeLagMs } : {}),
    ...(listingLagMs !== undefined ? { listingLagMs } : {}),
  });
  console.log(`AWS emulator listening on ${emu.endpoint}`);
  const stop = () => {
    emu.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((e: unknown) => {
  console.error(`aws-emulator: ${(e as Error).message}`);
  process.exit(1);
});
