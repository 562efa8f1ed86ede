import { startListeningServer } from './app.js';
import { startAwsEmulator, type AwsEmulator } from './aws-emulator/index.js';
import type { TestServerOptions } from './app.js';

/** An access key the emulator accepts as a long-term key of its default account. */
export const TEST_ACCESS_KEY = 'AKIAFERRYTEST0000001';
export const TEST_SECRET_KEY = 'ferry-test-secret-access-key/AbCdEf';

export interface SyncScenario {
  emu: AwsEmulator;
  url: string;
  core: Awaited<ReturnType<typeof startListeningServer>>['server']['core'];
  server: Awaited<ReturnType<typeof startListeningServer>>['server'];
  /** A request shaped like the `vault` CLI's: PUT, no Content-Type, string values, X-Vault-Request. */
  cli(method: string, path: string, body?: Record<string, unknown>, token?: string): Promise<{ status: number; body: any }>;
  /** Creates an aws-sm destination pointing at the emulator with static keys. */
  createDestination(name: string, extra?: Record<string, string>): Promise<{ status: number; body: any }>;
  close(): Promise<void>;
}

/** A listening Ferry and the emulator; a `clock` given is shared by both. */
export async function startSyncScenario(opts: TestServerOptions = {}): Promise<SyncScenario> {
  const emu = await startAwsEmulator(opts.clock ? { clock: opts.clock } : {});
  const srv = await startListeningServer(opts);
  const url = srv.listener.url;
  const cli: SyncScenario['cli'] = async (method, path, body, token = 'root') => {
    const res = await fetch(`${url}/v1/${path}`, {
      method,
      headers: { 'X-Vault-Token': token, 'X-Vault-Request': 'true' },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };
  return {
    emu,
    url,
    core: srv.server.core,
    server: srv.server,
    cli,
    createDestination: (name, extra = {}) =>
      cli('PUT', `sys/sync/destinations/aws-sm/${name}`, {
        access_key_id: TEST_ACCESS_KEY,
        secret_access_key: TEST_SECRET_KEY,
        region: 'us-east-1',
        endpoint_url: emu.endpoint,
        ...extra,
      }),
    close: async () => {
      await srv.close();
      await emu.close();
    },
  };
}

/** Polls `check` until it returns a truthy value (or throws after `timeoutMs`). */
export async function eventually<T>(check: () => T | Promise<T>, timeoutMs = 10_000, what = "condition"): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v as NonNullable<T>;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
