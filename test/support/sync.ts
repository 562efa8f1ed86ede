import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { onTestFinished } from 'vitest';
import type { CoreOptions } from '../../src/compose.js';
import type { SyncWorkerOptions } from '../../src/sync/index.js';
import { startListeningServer, startTestServer, type TestServer } from './app.js';
import { startAwsEmulator, type AwsEmulator } from './aws-emulator/index.js';
import { manualClock, type ManualClock } from './clock.js';
import { perTest } from './fixtures.js';

/** An access key the emulator accepts as a long-term key of its default account. */
export const TEST_ACCESS_KEY = 'AKIAFERRYTEST0000001';
export const TEST_SECRET_KEY = 'ferry-test-secret-access-key/AbCdEf';

/** The body of an aws-sm destination at the emulator in us-east-1, with the test's static keys. */
export const emulatorDestination = (emu: AwsEmulator, extra: Record<string, unknown> = {}) => ({
  access_key_id: TEST_ACCESS_KEY,
  secret_access_key: TEST_SECRET_KEY,
  region: 'us-east-1',
  endpoint_url: emu.endpoint,
  ...extra,
});

/** The IAM actions of the guide's minimal policy: a Secrets Manager call needing any other is "outside" it. */
export const GUIDE_ACTIONS = ['secretsmanager:Create*', 'secretsmanager:Update*', 'secretsmanager:Delete*', 'secretsmanager:TagResource'];

let identities = 0;

/**
 * Registers an emulator IAM user holding `policies` (inline, by name), with a long-term key;
 * answers its ARN and the destination fields that make Ferry act as it.
 */
export function syncIdentity(
  emu: AwsEmulator,
  userName: string,
  policies: Record<string, unknown>,
): { arn: string; keys: { access_key_id: string; secret_access_key: string } } {
  identities += 1;
  const keys = { access_key_id: `AKIASYNCUSER${String(identities).padStart(8, '0')}`, secret_access_key: `secret-of-${userName}` };
  const { arn } = emu.registerUser({
    userName,
    accessKeys: [{ accessKeyId: keys.access_key_id, secretAccessKey: keys.secret_access_key }],
    inlinePolicies: policies,
  });
  return { arn, keys };
}

/**
 * A Secrets Manager client at the emulator in us-east-1 acting outside Ferry (another team, an
 * operator's script): unrestricted unless `credentials` belong to a user with policies.
 * Destroyed after the test.
 */
export function outOfBandClient(
  emu: AwsEmulator,
  credentials = { accessKeyId: 'AKIAOTHERTEAM0000001', secretAccessKey: 'x' },
  region = 'us-east-1',
): SecretsManagerClient {
  const sm = new SecretsManagerClient({ region, endpoint: emu.endpoint, credentials, maxAttempts: 1 });
  onTestFinished(() => sm.destroy());
  return sm;
}

/** Starts the emulator on `clock`, then the server beside it; the emulator is closed again if the server fails to start. */
async function startBeside<T extends { close(): Promise<void> }>(
  clock: () => number,
  start: (emu: AwsEmulator) => Promise<T>,
): Promise<{ emu: AwsEmulator; server: T }> {
  const emu = await startAwsEmulator({ clock });
  try {
    return { emu, server: await start(emu) };
  } catch (err) {
    await emu.close();
    throw err;
  }
}

// ---- Through app.inject ----------------------------------------------------------------------

/** A dev server answering through `app.inject`, the emulator, and the clock they share. */
export interface SyncTestServer extends TestServer {
  emu: AwsEmulator;
  /** Ferry's and the emulator's; it starts at the real time and moves when the test says so. */
  clock: ManualClock;
}

async function startSyncServer(worker: SyncWorkerOptions, options: Partial<CoreOptions> = {}): Promise<SyncTestServer> {
  // Starts at the real time: the SDK signs requests with it, and the emulator checks the
  // signature's time against its own clock.
  const clock = manualClock();
  const { emu, server: t } = await startBeside(clock, () => startTestServer({ ...options, clock, syncWorker: { ...worker, start: false } }));
  const closeServer = t.close;
  return Object.assign(t, {
    emu,
    clock,
    close: async () => {
      try {
        await closeServer();
      } finally {
        await emu.close();
      }
    },
  });
}

/**
 * For every test of the calling file (or `describe` block): a dev server (requests through
 * `app.inject`) and the emulator on one manual clock. The sync worker is stopped: tests deliver
 * with `t.server.sync.worker.drainOnce()`, so nothing runs unless the test says so. `worker`
 * tunes it (hooks such as `afterProviderCall` included); `options`, the server (a resolver for
 * strict networking, the configuration's sync block).
 */
export function useSyncServer(worker: SyncWorkerOptions = {}, options: Partial<CoreOptions> = {}): SyncTestServer {
  return perTest('the sync test server', () => startSyncServer(worker, options), (t) => t.close());
}

// ---- Over a socket, with the CLI's requests --------------------------------------------------

export interface SyncScenario {
  emu: AwsEmulator;
  /** Ferry's listener, e.g. `http://127.0.0.1:40123`. */
  url: string;
  server: Awaited<ReturnType<typeof startListeningServer>>['server'];
  /** Ferry's and the emulator's clock. */
  clock: () => number;
  /**
   * A request shaped like the `vault` CLI's (cli-flows.md): X-Vault-Request, the root token
   * unless `token` says otherwise, no Content-Type on PUT/POST, merge-patch on PATCH.
   */
  cli(method: string, path: string, body?: Record<string, unknown>, token?: string): Promise<{ status: number; body: any }>;
  /** Creates an aws-sm destination at the emulator with the test's static keys. */
  createDestination(name: string, extra?: Record<string, unknown>): Promise<{ status: number; body: any }>;
  close(): Promise<void>;
}

/** How the scenario's sync worker runs. */
export type WorkerMode =
  /** As `main.ts` runs it, on its own timers and on the real clock: tests wait for it (`waitUntil`). */
  | 'running'
  /** Stopped, on a manual clock: tests deliver with `drainOnce` and move time themselves. */
  | 'drained';

async function startSyncScenario(mode: WorkerMode): Promise<SyncScenario> {
  const clock = mode === 'drained' ? manualClock() : Date.now;
  const { emu, server: srv } = await startBeside(clock, () => startListeningServer({ clock, syncWorker: { start: mode === 'running' } }));
  const url = srv.listener.url;
  // As `main.ts` does when no api_addr is configured: the identity issuer's URL (web identity) is the listener's.
  srv.server.core.info.apiAddr = url;
  const cli: SyncScenario['cli'] = async (method, path, body, token = 'root') => {
    const res = await fetch(`${url}/v1/${path}`, {
      method,
      headers: {
        'X-Vault-Token': token,
        'X-Vault-Request': 'true',
        ...(method === 'PATCH' ? { 'Content-Type': 'application/merge-patch+json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };
  return {
    emu,
    url,
    server: srv.server,
    clock,
    cli,
    createDestination: (name, extra = {}) => cli('PUT', `sys/sync/destinations/aws-sm/${name}`, emulatorDestination(emu, extra)),
    close: async () => {
      try {
        await srv.close();
      } finally {
        await emu.close();
      }
    },
  };
}

/**
 * For every test of the calling file (or `describe` block): a listening dev server and the
 * emulator, with the sync worker running (`'running'`) or driven by the test (`'drained'`,
 * whose clock is manual).
 */
export function useSyncScenario(mode: 'drained'): SyncScenario & { clock: ManualClock };
export function useSyncScenario(mode: 'running'): SyncScenario;
export function useSyncScenario(mode: WorkerMode): SyncScenario {
  return perTest('the sync scenario', () => startSyncScenario(mode), (s) => s.close());
}
