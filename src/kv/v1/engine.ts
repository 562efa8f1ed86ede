import type { MountEntry } from '../../kernel/entries.js';
import type { Store } from '../../store/store.js';
import { MountTable } from '../../sys/mount-table.js';
import { decode, encode } from '../layout.js';

/**
 * KV version 1 (`vault secrets enable kv`): one unversioned JSON object per path, stored
 * at `<dataPrefix>/<path>` as Vault lays it out. No metadata, no versions and no change
 * events, which is why secrets sync refuses these mounts.
 */
export class KvV1Engine {
  constructor(private readonly store: Store) {}

  async read(mount: MountEntry, path: string): Promise<Record<string, unknown> | undefined> {
    const entry = await this.store.get(MountTable.dataPrefix(mount) + path);
    return entry ? decode<Record<string, unknown>>(entry.value) : undefined;
  }

  async write(mount: MountEntry, path: string, data: Record<string, unknown>): Promise<void> {
    await this.store.commit([{ kind: 'put', key: MountTable.dataPrefix(mount) + path, value: encode(data) }]);
  }

  async delete(mount: MountEntry, path: string): Promise<void> {
    await this.store.commit([{ kind: 'delete', key: MountTable.dataPrefix(mount) + path }]);
  }

  async list(mount: MountEntry, folder: string): Promise<string[]> {
    return this.store.list(MountTable.dataPrefix(mount) + (folder === '' ? '' : `${folder}/`));
  }
}
