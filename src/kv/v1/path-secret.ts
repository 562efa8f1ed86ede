import { z } from 'zod';
import { notFound } from '../../kernel/errors.js';
import { definePath, param, type PathSpec } from '../../kernel/request.js';
import { kvErrors } from '../errors.js';
import type { KvV1Engine } from './engine.js';

/**
 * The one path family of a KV v1 mount: every path is a secret (read, write, delete) or a
 * folder (list). The pattern is a catch-all, with no literal to name the file by.
 */
export function secretPath(engine: KvV1Engine): PathSpec {
  return definePath({
    pattern: ':path*',
    params: { path: param.optionalRest() },
    description: 'Pass-through secret storage: read, write, delete and list JSON objects.',
    takesArbitraryInput: true,
    exists: async (req) => (await engine.read(req.mount, req.params.path)) !== undefined,
    operations: (op) => ({
      read: op({
        summary: 'Reads the secret at a path.',
        operationId: 'kv-v1-read',
        response: z.record(z.string(), z.unknown()),
        handler: async (req) => {
          const data = req.trailingSlash || req.params.path === '' ? undefined : await engine.read(req.mount, req.params.path);
          if (!data) throw notFound();
          return { data };
        },
      }),
      list: op({
        summary: 'Lists the secrets and folders directly under a folder.',
        operationId: 'kv-v1-list',
        response: z.object({ keys: z.array(z.string()) }),
        handler: async (req) => {
          const keys = await engine.list(req.mount, req.params.path);
          if (keys.length === 0) throw notFound();
          return { data: { keys } };
        },
      }),
      write: op({
        summary: 'Stores the request body, a JSON object, as the secret at a path (replacing it).',
        operationId: 'kv-v1-write',
        handler: async (req) => {
          if (req.params.path === '') throw kvErrors.missingPath();
          if (req.trailingSlash) throw kvErrors.trailingSlashWrite();
          if (Object.keys(req.raw).length === 0) throw kvErrors.missingDataFields();
          await engine.write(req.mount, req.params.path, req.raw);
        },
      }),
      delete: op({
        summary: 'Deletes the secret at a path.',
        operationId: 'kv-v1-delete',
        handler: async (req) => {
          if (req.params.path !== '' && !req.trailingSlash) await engine.delete(req.mount, req.params.path);
        },
      }),
    }),
  });
}
