import type { MountEntry } from '../../kernel/entries.js';
import { noHandler } from '../../kernel/errors.js';
import { withRetry, type Store, type WriteOp } from '../../store/store.js';
import { MountTable, isKvV2 } from '../../sys/mount-table.js';
import { kvErrors } from '../errors.js';
import { decode, encode } from '../layout.js';
import { kvUpgradeInProgress } from '../upgrade.js';

/**
 * KV version 1 (`vault secrets enable kv`): one unversioned JSON object per path, stored
 * at `<dataPrefix>/<path>` as Vault lays it out. No metadata, no versions and no change
 * events, which is why secrets sync refuses these mounts.
 */
export class KvV1Engine {
  constructor(
    private readonly store: Store,
    private readonly mounts: Pick<MountTable, 'snapshot'>,
  ) {}

  async read(mount: MountEntry, path: string): Promise<Record<string, unknown> | undefined> {
    const entry = await this.store.get(MountTable.dataPrefix(mount) + path);
    return entry ? decode<Record<string, unknown>>(entry.value) : undefined;
  }

  async write(mount: MountEntry, path: string, data: Record<string, unknown>): Promise<void> {
    await this.commitWhileV1(mount, { kind: 'put', key: MountTable.dataPrefix(mount) + path, value: encode(data) });
  }

  async delete(mount: MountEntry, path: string): Promise<void> {
    await this.commitWhileV1(mount, { kind: 'delete', key: MountTable.dataPrefix(mount) + path });
  }

  async list(mount: MountEntry, folder: string): Promise<string[]> {
    return this.store.list(MountTable.dataPrefix(mount) + (folder === '' ? '' : `${folder}/`));
  }

  /**
   * Commits a change of the mount's data only while it is still this KV v1 mount, checked
   * against the mount table's revision: a `vault kv enable-versioning` that began after this
   * request was routed copies the data it finds, and a change landing behind its back would
   * be acknowledged and lost. Such a request gets the upgrade's 400 instead.
   */
  private async commitWhileV1(mount: MountEntry, op: WriteOp): Promise<void> {
    await withRetry(async () => {
      const { mounts, check } = await this.mounts.snapshot();
      const now = mounts.find((m) => m.uuid === mount.uuid);
      // Disabled meanwhile: nothing serves the path any more.
      if (!now) throw noHandler(mount.path);
      if (kvUpgradeInProgress(now) || isKvV2(now) || MountTable.dataPrefix(now) !== MountTable.dataPrefix(mount)) throw kvErrors.upgrading();
      await this.store.commit([op], [check]);
    });
  }
}
