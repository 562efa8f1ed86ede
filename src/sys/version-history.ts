import type { ServerInfo } from '../kernel/services.js';
import { RevisionConflict, type Store } from '../store/store.js';

const PREFIX = 'core/versions/';

interface StoredVersion {
  version: string;
  /** RFC 3339, when a server running this version was first unsealed on this storage. */
  timestamp_installed: string;
  build_date: string;
}

/** One entry of `LIST sys/version-history`'s `key_info`. */
export interface VersionInfo {
  build_date: string;
  previous_version: string | null;
  timestamp_installed: string;
}

/**
 * The versions this storage has run (Vault's `core/versions/`), behind the barrier: each is
 * written once, the first time a server running it is unsealed, and never rewritten, so its
 * install time is that first unseal.
 */
export class VersionHistory {
  constructor(
    private readonly store: Store,
    private readonly info: Pick<ServerInfo, 'version' | 'buildDate'>,
    private readonly clock: () => number,
  ) {}

  /** Records the running version unless it is already recorded (called after every unseal). */
  async record(): Promise<void> {
    const key = PREFIX + encodeURIComponent(this.info.version);
    if (await this.store.get(key)) return;
    const entry: StoredVersion = {
      version: this.info.version,
      timestamp_installed: new Date(this.clock()).toISOString(),
      build_date: this.info.buildDate,
    };
    try {
      await this.store.commit([{ kind: 'put', key, value: Buffer.from(JSON.stringify(entry)) }], [{ key, revision: 0 }]);
    } catch (err) {
      // Recorded meanwhile by a concurrent unseal: the first record stands.
      if (!(err instanceof RevisionConflict)) throw err;
    }
  }

  /** Every recorded version, oldest install first, each naming the one installed before it. */
  async list(): Promise<{ keys: string[]; key_info: Record<string, VersionInfo> }> {
    const entries = (await this.store.scan(PREFIX))
      .map((row) => JSON.parse(row.value.toString('utf8')) as StoredVersion)
      .sort((a, b) => a.timestamp_installed.localeCompare(b.timestamp_installed) || a.version.localeCompare(b.version));
    const keyInfo: Record<string, VersionInfo> = {};
    entries.forEach((e, i) => {
      keyInfo[e.version] = {
        build_date: e.build_date,
        previous_version: i > 0 ? entries[i - 1]!.version : null,
        timestamp_installed: e.timestamp_installed,
      };
    });
    return { keys: entries.map((e) => e.version), key_info: keyInfo };
  }
}
