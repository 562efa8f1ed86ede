import { createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createReadStream } from 'node:fs';
import type { SystemDeps } from './deps.js';
import { sysErrors } from './errors.js';
import {
  extractMember,
  META_FILE,
  readArchive,
  SEALED_SUMS_FILE,
  sha256Of,
  SnapshotFormatError,
  STORE_FILE,
  SUMS_FILE,
  sumsText,
  verifySums,
  writeArchive,
} from './snapshot-archive.js';

/** What the checksums are sealed for: the key derived from the root key is used for nothing else. */
const SEALED_SUMS_PURPOSE = 'snapshot-sums';

export type SnapshotDeps = Pick<SystemDeps, 'snapshots' | 'scratchDir' | 'barrier' | 'seal' | 'info' | 'clock' | 'log'>;

async function scratch(deps: SnapshotDeps): Promise<string> {
  return mkdtemp(join(deps.scratchDir, '.ferry-snapshot-'));
}

/** Yields the file, then removes its directory (also when the client goes away mid-way). */
async function* streamThenRemove(file: string, dir: string): AsyncGenerator<Uint8Array> {
  try {
    yield* createReadStream(file) as AsyncIterable<Buffer>;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Takes a snapshot: a consistent copy of the store (still encrypted by the barrier), its
 * metadata, their checksums, and the checksums sealed under the root key, as a gzip-compressed
 * tar made in a scratch directory beside the database. Resolves the archive's bytes as a stream.
 */
export async function takeSnapshot(deps: SnapshotDeps): Promise<AsyncIterable<Uint8Array>> {
  const snapshots = deps.snapshots;
  if (!snapshots) throw sysErrors.snapshotsUnsupported();
  const dir = await scratch(deps);
  try {
    const storeFile = join(dir, STORE_FILE);
    await snapshots.writeSnapshot(storeFile);
    const now = deps.clock();
    const meta = Buffer.from(
      JSON.stringify({
        format: 'ferry-sqlite',
        version: 1,
        ferry_version: deps.info.version,
        created_at: new Date(now).toISOString(),
        size: (await stat(storeFile)).size,
      }) + '\n',
    );
    const sums = Buffer.from(
      sumsText(
        new Map([
          [META_FILE, await sha256Of({ name: META_FILE, data: meta })],
          [STORE_FILE, await sha256Of({ name: STORE_FILE, file: storeFile })],
        ]),
      ),
    );
    const archive = join(dir, 'snapshot.tar.gz');
    await writeArchive(
      archive,
      [
        { name: META_FILE, data: meta },
        { name: STORE_FILE, file: storeFile },
        { name: SUMS_FILE, data: sums },
        { name: SEALED_SUMS_FILE, data: deps.barrier.sealWithRootKey(SEALED_SUMS_PURPOSE, sums) },
      ],
      now,
    );
    await rm(storeFile);
    deps.log.info('snapshot taken');
    return streamThenRemove(archive, dir);
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

/**
 * Restores a snapshot: checks the archive (layout, checksums, and — unless forced — that its
 * checksums were sealed under this server's root key), checks the store copy, then replaces the
 * store and leaves the server sealed (`SealManager.replaceStore`).
 */
export async function restoreSnapshot(deps: SnapshotDeps, upload: AsyncIterable<Uint8Array> | undefined, force: boolean): Promise<void> {
  const snapshots = deps.snapshots;
  if (!snapshots) throw sysErrors.snapshotsUnsupported();
  if (!upload) throw sysErrors.snapshotMissing();
  const dir = await scratch(deps);
  try {
    const gz = join(dir, 'upload.gz');
    await pipeline(upload, createWriteStream(gz, { mode: 0o600 }));
    if ((await stat(gz)).size === 0) throw sysErrors.snapshotMissing();
    const archive = await readArchive(gz, join(dir, 'snapshot.tar'));
    await rm(gz);
    const storeFile = join(dir, 'restore.db');
    await extractMember(archive, STORE_FILE, storeFile);
    const sums = await verifySums(archive, storeFile);
    if (!force) {
      const sealed = archive.small.get(SEALED_SUMS_FILE);
      let opened: Buffer | undefined;
      try {
        opened = sealed && sealed.length > 0 ? deps.barrier.openWithRootKey(SEALED_SUMS_PURPOSE, sealed) : undefined;
      } catch {
        opened = undefined;
      }
      if (!opened?.equals(sums)) throw sysErrors.snapshotOtherKeys();
    }
    try {
      await snapshots.checkSnapshot(storeFile);
    } catch (err) {
      throw new SnapshotFormatError((err as Error).message);
    }
    deps.log.info({ force }, 'restoring a snapshot: the server seals now');
    await deps.seal.replaceStore(() => snapshots.restoreSnapshot(storeFile));
  } catch (err) {
    if (err instanceof SnapshotFormatError) throw sysErrors.invalidSnapshot(err.message);
    throw err;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
