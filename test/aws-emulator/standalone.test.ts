import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { ListSecretsCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterEach, describe, expect, it } from 'vitest';

let child: ChildProcess | undefined;

afterEach(async () => {
  if (child !== undefined && child.exitCode === null) {
    child.kill('SIGTERM');
    await once(child, 'exit');
  }
  child = undefined;
});

/** Starts `tsx test/support/aws-emulator/main.ts` (what `npm run aws-emulator` runs) and waits for its line. */
async function launch(args: string[]): Promise<{ line: string; ms: number; proc: ChildProcess }> {
  const started = performance.now();
  const proc = spawn(process.execPath, ['node_modules/tsx/dist/cli.mjs', 'test/support/aws-emulator/main.ts', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child = proc;
  let out = '';
  const line = await new Promise<string>((resolve, reject) => {
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const nl = out.indexOf('\n');
      if (nl >= 0) resolve(out.slice(0, nl));
    });
    proc.once('exit', (code) => reject(new Error(`exited with ${code}`)));
  });
  return { line, ms: performance.now() - started, proc };
}

describe('standalone command', () => {
  it('starts in under 2 seconds and prints its endpoint on one line', async () => {
    const { line, ms } = await launch(['--port', '0']);
    expect(line).toMatch(/^AWS emulator listening on http:\/\/127\.0\.0\.1:\d+$/);
    expect(ms).toBeLessThan(2000);
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
    const proc = spawn(process.execPath, ['node_modules/tsx/dist/cli.mjs', 'test/support/aws-emulator/main.ts', '--bogus'], { stdio: 'ignore' });
    child = proc;
    const [code] = (await once(proc, 'exit')) as [number];
    expect(code).toBe(2);
  });
});
