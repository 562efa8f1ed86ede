import { call, encodePath, list } from '../api';

/** The KV version 2 mounts the token can see (`sys/internal/ui/mounts`), as `path/`. */
export async function kvV2Mounts(): Promise<string[]> {
  const res = await call('sys/internal/ui/mounts');
  const secret = (res?.data?.secret ?? {}) as Record<string, { type: string; options?: { version?: string } | null }>;
  return Object.entries(secret)
    .filter(([, m]) => m.type === 'kv' && m.options?.version === '2')
    .map(([path]) => path)
    .sort();
}

/** The keys under a folder of a KV v2 mount (`LIST <mount>/metadata/<folder>`); folders end in `/`. */
export async function kvKeys(mount: string, folder: string): Promise<string[]> {
  const res = await list(`${encodePath(mount.replace(/\/$/, ''))}/metadata/${encodePath(folder)}`);
  return res.keys;
}
