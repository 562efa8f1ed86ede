import { definePath } from '../kernel/request.js';
import type { SystemDeps } from './deps.js';
import { restoreSnapshot, takeSnapshot, type SnapshotDeps } from './snapshot.js';

/**
 * `sys/storage/raft/snapshot` and `…/snapshot-force` (sudo): the paths `vault operator raft
 * snapshot save|restore [-force]` use, so an operator's backup job works unchanged. Ferry has no
 * raft: the snapshot holds its own store copy, in the archive layout Vault's client checks.
 */
export const storagePaths = (deps: SnapshotDeps & Pick<SystemDeps, 'log'>) => [
  definePath({
    pattern: 'storage/raft/snapshot',
    sudo: true,
    description: 'A consistent snapshot of the whole store, still encrypted by the barrier.',
    operations: (op) => ({
      read: op({
        summary: 'Returns a snapshot of the store (a gzip-compressed tar).',
        operationId: 'raft-read-snapshot',
        handler: async () => ({
          stream: await takeSnapshot(deps),
          headers: { 'content-type': 'application/gzip', 'content-disposition': 'attachment' },
        }),
      }),
      write: op({
        summary: 'Restores a snapshot taken of this server (same unseal keys); the server is sealed afterwards.',
        operationId: 'raft-write-snapshot',
        handler: async (req) => {
          await restoreSnapshot(deps, req.upload, false);
        },
      }),
    }),
  }),
  definePath({
    pattern: 'storage/raft/snapshot-force',
    sudo: true,
    description: 'Restores a snapshot whatever unseal keys it was taken under.',
    operations: (op) => ({
      write: op({
        summary: 'Restores a snapshot of any server; the server is sealed afterwards and unsealed with that server\'s keys.',
        operationId: 'raft-write-snapshot-force',
        handler: async (req) => {
          await restoreSnapshot(deps, req.upload, true);
        },
      }),
    }),
  }),
];
