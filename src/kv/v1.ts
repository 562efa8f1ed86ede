import { z } from 'zod';
import { notFound } from '../kernel/errors.js';
import { defineOperation, type Backend } from '../kernel/request.js';
import type { Store } from '../store/store.js';
import { MountTable } from '../sys/mount-table.js';
import type { MountEntry } from '../kernel/entries.js';
import { kvErrors } from './errors.js';
import { decode, encode } from './layout.js';

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

/** The KV v1 backend: every path of the mount is a secret (read, write, delete) or a folder (list). */
export function kvV1Backend(engine: KvV1Engine): Backend {
  return {
    mountType: 'kv',
    paths: [
      {
        pattern: ':path*',
        description: 'Pass-through secret storage: read, write, delete and list JSON objects.',
        exists: async (req) => (await engine.read(req.mount, req.params.path!)) !== undefined,
        operations: {
          read: defineOperation({
            summary: 'Reads the secret at a path.',
            operationId: 'kv-v1-read',
            response: z.record(z.string(), z.unknown()),
            handler: async (req) => {
              const data = req.trailingSlash || req.params.path === '' ? undefined : await engine.read(req.mount, req.params.path!);
              if (!data) throw notFound();
              return { data };
            },
          }),
          list: defineOperation({
            summary: 'Lists the secrets and folders directly under a folder.',
            operationId: 'kv-v1-list',
            response: z.object({ keys: z.array(z.string()) }),
            handler: async (req) => {
              const keys = await engine.list(req.mount, req.params.path!);
              if (keys.length === 0) throw notFound();
              return { data: { keys } };
            },
          }),
          write: defineOperation({
            summary: 'Stores the request body, a JSON object, as the secret at a path (replacing it).',
            operationId: 'kv-v1-write',
            handler: async (req) => {
              if (req.params.path === '') throw kvErrors.missingPath();
              if (req.trailingSlash) throw kvErrors.trailingSlashWrite();
              if (Object.keys(req.raw).length === 0) throw kvErrors.missingDataFields();
              await engine.write(req.mount, req.params.path!, req.raw);
            },
          }),
          delete: defineOperation({
            summary: 'Deletes the secret at a path.',
            operationId: 'kv-v1-delete',
            handler: async (req) => {
              if (req.params.path !== '' && !req.trailingSlash) await engine.delete(req.mount, req.params.path!);
            },
          }),
        },
      },
    ],
  };
}
