import { RevisionConflict, type RevisionCheck, type Store, type WriteOp } from '../store/store.js';

interface Pending {
  ops: WriteOp[];
  checks: RevisionCheck[];
  resolve: () => void;
  reject: (err: unknown) => void;
}

/**
 * Keys a commit writes, and keys it only checks; undefined when it deletes a whole prefix
 * (committed alone).
 */
function footprint(p: Pending): { writes: string[]; reads: string[] } | undefined {
  const writes: string[] = [];
  for (const op of p.ops) {
    if (op.kind === 'put' || op.kind === 'delete') writes.push(op.key);
    else if (op.kind === 'deletePrefix') return undefined;
  }
  const reads = p.checks.length === 0 ? [] : p.checks.map((c) => c.key).filter((k) => !writes.includes(k));
  return { writes, reads };
}

/** The checks of a merged group, each (key, revision) once: members often check the same record (a KV mount's watch record). */
function mergedChecks(group: Pending[]): RevisionCheck[] {
  const seen = new Set<string>();
  const out: RevisionCheck[] = [];
  for (const p of group) {
    for (const c of p.checks) {
      const id = `${c.revision}:${c.key}`;
      if (seen.has(id)) continue;
      seen.add(id);
      out.push(c);
    }
  }
  return out;
}

/**
 * Group commit over the store port. Commits issued during one turn of the event loop (the
 * KV writes of every request that arrived together) are merged into a single atomic store
 * commit, flushed from `setImmediate`. Each SQLite transaction costs a commit plus a WAL
 * frame per page it touches, and the pages a KV write touches (the outbox's table and
 * indexes, neighbouring metadata and version entries) are largely shared within a batch,
 * so under concurrency this divides the storage cost per write several times.
 *
 * Semantics stay those of individual commits: a batch only merges commits that write
 * disjoint keys and check no key another of them writes (two commits checked against the
 * same entry they both write are never merged, or the second would not see the first; two
 * that only check the same record, which neither writes — a KV mount's watch record — see
 * the same state merged or not), and if a merged commit fails a revision check, its
 * members are committed one by one so that only the stale one gets `RevisionConflict`.
 * Any other failure fails every member, as nothing of the batch was applied.
 */
export class GroupCommit {
  private queue: Pending[] = [];
  private scheduled = false;

  constructor(
    private readonly store: Store,
    private readonly maxBatch = 64,
  ) {}

  commit(ops: WriteOp[], checks: RevisionCheck[]): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ ops, checks, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => void this.flush());
      }
    });
  }

  private async flush(): Promise<void> {
    const batch = this.queue;
    this.queue = [];
    this.scheduled = false;
    let group: Pending[] = [];
    let written = new Set<string>();
    let read = new Set<string>();
    for (const p of batch) {
      const keys = footprint(p);
      if (
        keys === undefined ||
        group.length >= this.maxBatch ||
        keys.writes.some((k) => written.has(k) || read.has(k)) ||
        keys.reads.some((k) => written.has(k))
      ) {
        if (group.length > 0) await this.commitGroup(group);
        group = [];
        written = new Set();
        read = new Set();
      }
      if (keys === undefined) {
        await this.commitGroup([p]);
        continue;
      }
      group.push(p);
      for (const k of keys.writes) written.add(k);
      for (const k of keys.reads) read.add(k);
    }
    if (group.length > 0) await this.commitGroup(group);
  }

  private async commitGroup(group: Pending[]): Promise<void> {
    if (group.length > 1) {
      try {
        await this.store.commit(
          group.flatMap((p) => p.ops),
          mergedChecks(group),
        );
        for (const p of group) p.resolve();
        return;
      } catch (err) {
        if (!(err instanceof RevisionConflict)) {
          for (const p of group) p.reject(err);
          return;
        }
        // Fall through: find out, one by one, whose read was stale.
      }
    }
    for (const p of group) {
      try {
        await this.store.commit(p.ops, p.checks);
        p.resolve();
      } catch (err) {
        p.reject(err);
      }
    }
  }
}
