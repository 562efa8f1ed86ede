/**
 * The two optional eventual-consistency lags: after a purge the name stays unusable for a while
 * (spec §2.3 "just force-deleted: may fail briefly"), and ListSecrets answers a stale view
 * (spec §2.11 "eventually consistent"). Both run on the emulator clock; tests move it.
 */
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  RestoreSecretCommand,
  TagResourceCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { describe, expect, it, onTestFinished } from 'vitest';
import type { AwsEmulator } from '../support/aws-emulator/index.js';
import { DAY, type ManualClock } from '../support/clock.js';
import { expectAwsError, smClient, startEmulator } from './helpers.js';

const SCHEDULED = "You can't create this secret because a secret with this name is already scheduled for deletion.";

let emu: AwsEmulator;
let clock: ManualClock;
let sm: SecretsManagerClient;

/** An emulator with these lags for the current test (the lags are start options, so not useEmulator). */
async function start(opts: { purgeLagMs?: number; listingLagMs?: number } = {}): Promise<void> {
  ({ emu, clock } = await startEmulator(opts));
  sm = smClient(emu);
  const [thisEmu, thisSm] = [emu, sm];
  onTestFinished(async () => {
    thisSm.destroy();
    await thisEmu.close();
  });
}

const create = (name: string, tags?: Array<{ Key: string; Value: string }>) =>
  sm.send(new CreateSecretCommand({ Name: name, SecretString: 'x', ...(tags !== undefined ? { Tags: tags } : {}) }));
const listed = async (includePlannedDeletion = false) =>
  ((await sm.send(new ListSecretsCommand({ IncludePlannedDeletion: includePlannedDeletion }))).SecretList ?? []).map((s) => s.Name);

describe('purge lag', () => {
  it('without it, a force-deleted name can be created again at once', async () => {
    await start();
    expect(emu.lags()).toEqual({ purgeLagMs: 0, listingLagMs: 0 });
    await create('vault/app');
    await sm.send(new DeleteSecretCommand({ SecretId: 'vault/app', ForceDeleteWithoutRecovery: true }));
    await create('vault/app');
  });

  it('after ForceDeleteWithoutRecovery the name is refused for the lag, while the secret is already gone', async () => {
    await start({ purgeLagMs: 30_000 });
    await create('vault/app');
    await sm.send(new DeleteSecretCommand({ SecretId: 'vault/app', ForceDeleteWithoutRecovery: true }));
    await expectAwsError(create('vault/app'), 'InvalidRequestException', SCHEDULED);
    await expectAwsError(sm.send(new DescribeSecretCommand({ SecretId: 'vault/app' })), 'ResourceNotFoundException');
    await expectAwsError(sm.send(new RestoreSecretCommand({ SecretId: 'vault/app' })), 'ResourceNotFoundException');
    expect(await listed(true)).toEqual([]);
    clock.advance(29_999);
    await expectAwsError(create('vault/app'), 'InvalidRequestException', SCHEDULED);
    clock.advance(1);
    await create('vault/app');
    expect((await sm.send(new GetSecretValueCommand({ SecretId: 'vault/app' }))).SecretString).toBe('x');
  });

  it('also follows the end of a recovery window, counted from the purge instant', async () => {
    await start();
    expect(emu.setLags({ purgeLagMs: 60_000 })).toEqual({ purgeLagMs: 60_000, listingLagMs: 0 });
    await create('vault/app');
    await sm.send(new DeleteSecretCommand({ SecretId: 'vault/app', RecoveryWindowInDays: 7 }));
    clock.advance(7 * DAY + 59_999);
    await expectAwsError(sm.send(new DescribeSecretCommand({ SecretId: 'vault/app' })), 'ResourceNotFoundException');
    await expectAwsError(create('vault/app'), 'InvalidRequestException', SCHEDULED);
    clock.advance(1);
    await create('vault/app');
  });

  it('holds only the purged name', async () => {
    await start({ purgeLagMs: 30_000 });
    await create('vault/a');
    await sm.send(new DeleteSecretCommand({ SecretId: 'vault/a', ForceDeleteWithoutRecovery: true }));
    await create('vault/b');
    const otherRegion = smClient(emu, { region: 'us-east-1' });
    await otherRegion.send(new CreateSecretCommand({ Name: 'vault/a', SecretString: 'x' }));
    otherRegion.destroy();
    expect(emu.listSecretNames('eu-west-1')).toEqual(['vault/b']);
    expect(emu.listSecretNames('us-east-1')).toEqual(['vault/a']);
  });
});

describe('listing lag', () => {
  it('ListSecrets shows the namespace as it was the lag ago; DescribeSecret is live', async () => {
    await start({ listingLagMs: 60_000 });
    await create('a', [{ Key: 'v', Value: '1' }]);
    expect(await listed()).toEqual([]);
    expect((await sm.send(new DescribeSecretCommand({ SecretId: 'a' }))).Name).toBe('a');
    clock.advance(60_000);
    expect(await listed()).toEqual(['a']);

    await sm.send(new TagResourceCommand({ SecretId: 'a', Tags: [{ Key: 'v', Value: '2' }] }));
    await create('b');
    await sm.send(new DeleteSecretCommand({ SecretId: 'a', ForceDeleteWithoutRecovery: true }));
    const stale = (await sm.send(new ListSecretsCommand({}))).SecretList!;
    expect(stale.map((s) => [s.Name, s.Tags])).toEqual([['a', [{ Key: 'v', Value: '1' }]]]);

    clock.advance(60_000);
    expect(await listed()).toEqual(['b']);
  });

  it('can be switched on and off at run time; the first view is the state when it was set', async () => {
    await start();
    await create('before');
    expect(emu.setLags({ listingLagMs: 10_000 })).toEqual({ purgeLagMs: 0, listingLagMs: 10_000 });
    await create('after');
    expect(await listed()).toEqual(['before']);
    clock.advance(10_000);
    expect(await listed()).toEqual(['before', 'after']);
    await create('latest');
    emu.setLags({ listingLagMs: 0 });
    expect(await listed()).toEqual(['before', 'after', 'latest']);
  });

  it('a stale view still drops a secret whose recovery window had ended by then', async () => {
    await start({ listingLagMs: 60_000 });
    await create('a');
    await sm.send(new DeleteSecretCommand({ SecretId: 'a', RecoveryWindowInDays: 7 }));
    clock.advance(60_000);
    expect(await listed(true)).toEqual(['a']);
    clock.advance(7 * DAY);
    expect(await listed(true)).toEqual([]);
  });

  it('PUT /_emulator/lags sets both; GET reads them', async () => {
    await start();
    const put = await fetch(`${emu.adminUrl}/lags`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ purgeLagMs: 5000, listingLagMs: 7000 }),
    });
    expect(put.status).toBe(200);
    expect(await put.json()).toEqual({ purgeLagMs: 5000, listingLagMs: 7000 });
    expect(await (await fetch(`${emu.adminUrl}/lags`)).json()).toEqual({ purgeLagMs: 5000, listingLagMs: 7000 });
    const bad = await fetch(`${emu.adminUrl}/lags`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{"purgeLagMs":-1}' });
    expect(bad.status).toBe(400);
  });
});
