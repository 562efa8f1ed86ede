import { z } from 'zod';
import type { MountEntry } from '../kernel/entries.js';
import { vBool, vMap, vString } from '../kernel/fields.js';
import { MountTable } from './mount-table.js';

/** The body of an enable request, the same for a secrets engine (`sys/mounts/:path`) and an auth method (`sys/auth/:path`). */
export const enableFields = {
  type: vString(),
  description: vString(),
  config: vMap(),
  options: vMap(),
  local: vBool(),
  seal_wrap: vBool(),
  external_entropy_access: vBool(),
  plugin_name: vString(),
  plugin_version: vString(),
};

export type EnableInput = { [K in keyof typeof enableFields]?: z.output<(typeof enableFields)[K]> };

/**
 * Adds the mount an enable request describes, once `check` has accepted its path against the
 * table as it is at commit time.
 */
export async function addMount(
  mounts: MountTable,
  path: string,
  type: string,
  input: EnableInput,
  settings: { config: MountEntry['config']; options: Record<string, string> | null },
  check: (table: MountEntry[]) => void,
): Promise<void> {
  await mounts.update((table) => {
    check(table);
    table.push(
      mounts.build(path, type, {
        description: input.description ?? '',
        config: settings.config,
        options: settings.options,
        local: input.local ?? false,
        seal_wrap: input.seal_wrap ?? false,
        external_entropy_access: input.external_entropy_access ?? false,
        plugin_version: input.plugin_version ?? '',
      }),
    );
  });
}

/** Removes a mount and, in the same commit, everything its backend stored. */
export async function removeMount(mounts: MountTable, m: MountEntry): Promise<void> {
  // The entry as stored when the change applies: its data may have moved since `m` was read.
  let removed: MountEntry | undefined;
  await mounts.update(
    (table) => {
      const i = table.findIndex((x) => x.path === m.path);
      removed = i >= 0 ? table.splice(i, 1)[0] : undefined;
    },
    () =>
      removed
        ? [
            { kind: 'deletePrefix', prefix: MountTable.dataPrefix(removed) },
            // The area a KV upgrade was building goes too; the upgrade notices and stops.
            ...(removed.kv_upgrade ? [{ kind: 'deletePrefix' as const, prefix: MountTable.areaPrefix(removed.kv_upgrade.area) }] : []),
          ]
        : [],
  );
}
