/**
 * The sync fault suite's invariant check, shared by the fault suite (`test/faults`) and the HA
 * failover test (`test/ha`): every association holds its secret's latest KV value and Ferry's
 * tags in AWS (0 lost updates), no KV version became two AWS versions (0 duplicates), and no
 * association is left failed.
 */
import { expect } from 'vitest';
import type { AwsEmulator } from './aws-emulator/index.js';
import { waitUntil } from './process.js';
import { emulatorDestination } from './sync.js';

const REGION = 'us-east-1';

/** What the checks need of a Ferry server, in-process or over HTTP. */
export interface Target {
  call(method: string, p: string, body?: unknown): Promise<{ status: number; body: any }>;
}

/** A Ferry server reached over HTTP with a token. */
export function overHttp(url: string, token: string): Target {
  return {
    call: async (method, p, body) => {
      const res = await fetch(`${url}/v1/${p}`, {
        method,
        headers: { 'X-Vault-Token': token },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : undefined };
    },
  };
}

export interface Counts {
  associations: number;
  lost: number;
  duplicates: number;
  failed: number;
  tagsWrong: number;
  /** What the duplicates were, for the report. */
  details?: string[];
}

/** The invariant check: AWS against KV's latest version, per association of destination `aws-sm/d` (KV mount `kv`, tag team=faults). */
export async function invariants(target: Target, emu: AwsEmulator): Promise<Counts> {
  const entries = (await target.call('GET', 'sys/sync/destinations/aws-sm/d/associations')).body.data.associated_secrets as Record<string, any>;
  const counts: Counts = { associations: 0, lost: 0, duplicates: 0, failed: 0, tagsWrong: 0, details: [] };
  for (const e of Object.values(entries)) {
    counts.associations++;
    const kv = (await target.call('GET', `kv/data/${e.secret_name}`)).body.data.data;
    const secret = emu.getSecret(REGION, e.external_name);
    const current = secret?.versions.find((v) => v.stages.includes('AWSCURRENT'))?.secretString;
    if (current !== JSON.stringify(kv)) counts.lost++;
    const byValue = new Map<string, number>();
    for (const v of secret?.versions ?? []) byValue.set(v.secretString ?? '', (byValue.get(v.secretString ?? '') ?? 0) + 1);
    for (const [value, c] of byValue) {
      if (c < 2) continue;
      counts.duplicates += c - 1;
      const ids = secret!.versions.filter((v) => v.secretString === value).map((v) => v.versionId);
      counts.details!.push(`duplicate: ${e.external_name} holds ${c} versions of one value (${ids.join(', ')})`);
    }
    if (e.sync_status !== 'SYNCED' || e.last_error !== undefined) counts.failed++;
    const tags = Object.fromEntries((secret?.tags ?? []).map((x) => [x.Key, x.Value]));
    if (tags['hashicorp:vault'] !== '' || !tags['ferry:owner'] || tags.team !== 'faults') counts.tagsWrong++;
  }
  return counts;
}

/** Waits until all `expected` associations hold their latest value, SYNCED; answers when that was (ms epoch). */
export async function converged(target: Target, emu: AwsEmulator, expected: number, timeoutMs = 60_000): Promise<number> {
  await waitUntil(
    'every association to hold its latest value, SYNCED',
    async () => {
      const c = await invariants(target, emu);
      return c.associations === expected && c.lost === 0 && c.failed === 0;
    },
    { timeoutMs, intervalMs: 50 },
  );
  return Date.now();
}

/** Asserts a clean outcome; pushes the scenario's line (and any duplicates) to `report`. */
export function expectClean(report: string[], scenario: string, expected: number, { details, ...c }: Counts, extra = ''): void {
  report.push(...(details ?? []));
  report.push(`${scenario}: ${c.associations} associations, ${c.lost} lost updates, ${c.duplicates} duplicate AWS versions, ${c.failed} left failed, ${c.tagsWrong} with wrong tags${extra}`);
  expect(c).toEqual({ associations: expected, lost: 0, duplicates: 0, failed: 0, tagsWrong: 0 });
}

/** Mounts `kv`, creates destination `aws-sm/d` (the emulator, tag team=faults) and associates each of `names`. */
export async function setUpSync(target: Target, emu: AwsEmulator, names: string[], destination: Record<string, unknown> = emulatorDestination(emu, { custom_tags: { team: 'faults' } })) {
  expect((await target.call('POST', 'sys/mounts/kv', { type: 'kv-v2' })).status).toBeLessThan(300);
  expect((await target.call('PUT', 'sys/sync/destinations/aws-sm/d', destination)).status).toBe(200);
  for (const n of names) {
    await target.call('PUT', `kv/data/${n}`, { data: { n: 0, at: n } });
    expect((await target.call('PUT', 'sys/sync/destinations/aws-sm/d/associations/set', { mount: 'kv', secret_name: n })).status).toBe(200);
  }
}

/** Numbers every KV write of the process, so that no two versions of a secret ever hold the same data. */
let counter = 0;

/** What a write load saw: accepted and refused writes, every status, and the last acknowledged `n` per secret. */
export interface LoadOutcome {
  accepted: number;
  refused: number;
  /** How many answers of each status (0: no answer at all, the connection failed). */
  statuses: Record<number, number>;
  acknowledged: Map<string, number>;
}

/** Writes KV versions of `names` round-robin at a steady rate until stopped; counts the writes Ferry accepted. */
export function writeLoad(target: Target, names: string[], rate: number) {
  let stopped = false;
  const outcome: LoadOutcome = { accepted: 0, refused: 0, statuses: {}, acknowledged: new Map() };
  const done = (async () => {
    while (!stopped) {
      const started = Date.now();
      const n = names[counter % names.length]!;
      counter++;
      const value = counter;
      let status: number;
      try {
        status = (await target.call('PUT', `kv/data/${n}`, { data: { n: value, at: n } })).status;
      } catch {
        status = 0;
      }
      outcome.statuses[status] = (outcome.statuses[status] ?? 0) + 1;
      if (status === 200) {
        outcome.accepted++;
        outcome.acknowledged.set(n, value);
      } else outcome.refused++;
      await new Promise((r) => setTimeout(r, Math.max(0, 1000 / rate - (Date.now() - started))));
    }
  })();
  return {
    stop: async (): Promise<LoadOutcome> => {
      stopped = true;
      await done;
      return outcome;
    },
  };
}
