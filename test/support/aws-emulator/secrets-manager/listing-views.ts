/**
 * Listing lag: ListSecrets is eventually consistent on AWS (spec §2.11: changes can take minutes
 * to show). With a lag set, ListSecrets answers from the namespace as it was `lagMs` ago on the
 * emulator clock; every other operation sees the live state. Views are copies of the listed
 * metadata taken after each successful write, kept only while the lag can still reach them.
 */
import type { SecretRecord, SecretsStore } from './store.js';

interface View {
  time: number;
  records: SecretRecord[];
}

/** A copy of what a listing shows of a record (no secret values). */
function listingCopy(r: SecretRecord): SecretRecord {
  return {
    ...r,
    core: {
      ...r.core,
      tags: r.core.tags?.map((t) => ({ ...t })),
      versions: new Map(
        [...r.core.versions].map(([id, v]) => [id, { versionId: v.versionId, stages: [...v.stages], createdDate: v.createdDate }]),
      ),
    },
    replicas: new Map([...r.replicas].map(([region, state]) => [region, { ...state }])),
  };
}

export class ListingViews {
  private lag = 0;
  /** When the lag was set: a namespace first written after it was empty until then. */
  private since = 0;
  /** By `account|region`, oldest first. */
  private readonly views = new Map<string, View[]>();

  get lagMs(): number {
    return this.lag;
  }

  /**
   * Sets the lag; with a lag, every namespace is captured now, so a listing never shows a state
   * older than the moment the lag was set (the emulator kept no history before).
   */
  setLag(lagMs: number, store: SecretsStore, now: number): void {
    if (!Number.isFinite(lagMs) || lagMs < 0) throw new Error('listingLagMs must be a non-negative number');
    this.lag = lagMs;
    this.since = now;
    this.views.clear();
    if (lagMs > 0) {
      for (const { accountId, region } of store.namespaces()) {
        this.views.set(`${accountId}|${region}`, [{ time: now, records: store.all(accountId, region, now).map(listingCopy) }]);
      }
    }
  }

  /** Records the current state of an account's namespaces after a write (a write may touch other regions: replicas). */
  capture(store: SecretsStore, accountId: string, now: number): void {
    if (this.lag === 0) return;
    for (const ns of store.namespaces()) if (ns.accountId === accountId) this.captureOne(store, accountId, ns.region, now);
  }

  /** What ListSecrets sees: live without a lag, else the newest view at least `lag` old (or the oldest kept). */
  records(store: SecretsStore, accountId: string, region: string, now: number): SecretRecord[] {
    if (this.lag === 0) return store.all(accountId, region, now);
    const views = this.views.get(`${accountId}|${region}`);
    if (views === undefined) return [];
    const asOf = now - this.lag;
    const view = [...views].reverse().find((v) => v.time <= asOf) ?? views[0];
    // A recovery window that had ended by then had purged its secret.
    return view.records.filter((r) => r.deletionDate === undefined || r.deletionDate > asOf);
  }

  private captureOne(store: SecretsStore, accountId: string, region: string, now: number): void {
    const key = `${accountId}|${region}`;
    // A namespace not captured when the lag was set did not exist then: it was empty.
    const views = this.views.get(key) ?? [{ time: this.since, records: [] }];
    views.push({ time: now, records: store.all(accountId, region, now).map(listingCopy) });
    // Keep the newest view old enough to be served, and everything newer.
    const asOf = now - this.lag;
    let keepFrom = 0;
    for (let i = 0; i < views.length; i++) if (views[i].time <= asOf) keepFrom = i;
    this.views.set(key, views.slice(keepFrom));
  }
}
