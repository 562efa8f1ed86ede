/**
 * Standalone entry: `npm run aws-emulator -- [--port 4566] [--host 127.0.0.1] [--require-https-issuer]`.
 * Prints one line with the endpoint, then serves until SIGINT/SIGTERM.
 */
import { parseArgs } from 'node:util';
import { startAwsEmulator } from './index.js';

const USAGE = 'usage: aws-emulator [--port N] [--host H] [--require-https-issuer] [--account-id 123456789012]';

async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        port: { type: 'string', default: '4566' },
        host: { type: 'string', default: '127.0.0.1' },
        'require-https-issuer': { type: 'boolean', default: false },
        'account-id': { type: 'string' },
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
  const emu = await startAwsEmulator({
    port,
    host: values.host,
    requireHttpsIssuer: values['require-https-issuer'],
    ...(values['account-id'] !== undefined ? { defaultAccountId: values['account-id'] } : {}),
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
