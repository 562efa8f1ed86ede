import type { Logger } from 'pino';
import type { MountEntry, TokenEntry } from '../kernel/entries.js';
import type { Authorizer, SealState, ServerInfo } from '../kernel/services.js';
import type { MountTable } from './mount-table.js';

/** A check run before a mount is disabled; it throws a coded error to refuse (sync associations). */
export type UnmountGuard = (mount: MountEntry) => Promise<void>;

/** What the `sys/` endpoints need from the rest of the server, wired in the composition root. */
export interface SystemDeps {
  seal: SealState;
  info: ServerInfo;
  mounts: MountTable;
  authorizer: Authorizer;
  tokens: {
    lookup(tokenId: string): Promise<TokenEntry | undefined>;
    lookupAccessor(accessor: string): Promise<TokenEntry | undefined>;
  };
  /** Filled by the composition root with the guards of features that hold mounts (sync). */
  unmountGuards: UnmountGuard[];
  clock: () => number;
  log: Logger;
}
