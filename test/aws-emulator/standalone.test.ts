import { ListSecretsCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { describe, expect, it, onTestFinished } from 'vitest';
import { runProcess } from '../support/process.js';

const MAIN = ['node_modules/tsx/dist/cli.mjs', 'test/support/aws-emulator/main.ts'];

/** Starts `tsx test/support/aws-emulator/main.ts` (what `npm run aws-emulator` runs); stopped when the test finishes. */
function run(args: string[]) {
  const proc = runProcess(process.execPath, [...MAIN, ...args]);
  onTestFinished(() => proc.stop());
  return proc;
}

/** Runs the emulator and waits for its first line (the endpoint), failing after waitFor's timeout. */
async function launch(args: string[]): Promise<{ line: string }> {
  const [line] = await run(args).waitFor(/^.*\n/);
  return { line: line.trimEnd() };
}

describe('standalone command', () => {
  it('prints its endpoint on one line and answers Secrets Manager calls there', async () => {
    const { line } = await launch(['--port', '0']);
    expect(line).toMatch(/^AWS emulator listening on http:\/\/127\.0\.0\.1:\d+$/);
    const endpoint = line.slice('AWS emulator listening on '.length);
    const sm = new SecretsManagerClient({
      region: 'eu-west-1',
      endpoint,
      credentials: { accessKeyId: 'AKIAEMULATOR00000001', secretAccessKey: 'x' },
      maxAttempts: 1,
    });
    expect((await sm.send(new ListSecretsCommand({}))).SecretList).toEqual([]);
    sm.destroy();
  });

  it('honours --require-https-issuer', async () => {
    const { line } = await launch(['--port', '0', '--require-https-issuer']);
    const endpoint = line.slice('AWS emulator listening on '.length);
    const res = await fetch(`${endpoint}/_emulator/oidc-providers`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ url: 'http://127.0.0.1:1/', clientIds: ['sts.amazonaws.com'] }),
    });
    expect(res.status).toBe(400);
  });

  it('exits with status 2 on an unknown option', async () => {
    expect(await run(['--bogus']).exited).toBe(2);
  });
});
