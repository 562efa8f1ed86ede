import type { MountEntry } from '../kernel/entries.js';
import { syncErrors } from './errors.js';
import type { Association, Destination, TargetState } from './model.js';
import { effectiveTemplate, externalNames } from './naming.js';
import type { SecretState } from './source.js';

/**
 * The association record a set makes — explicit (`associations/set`) or through a prefix
 * (`prefixes.ts`) — from the destination's current granularity and template: one target per
 * AWS name, targets whose name is unchanged keep their state, targets renamed away stay listed
 * (`retired:<name>`) for the worker to remove. Throws a 400 when the template cannot name the
 * secret. The caller claims the names (`name-claims.ts`) and decides `explicit` and `prefixes`.
 */
export function draftAssociation(
  dest: Destination,
  mount: MountEntry,
  secret: string,
  state: SecretState,
  previous: Association | undefined,
  at: string,
): Association {
  const granularity = dest.options.granularity_level;
  const template = effectiveTemplate(dest.options);
  const subKeys = granularity === 'secret-path' ? [''] : Object.keys(state.data ?? {});
  const names = externalNames(dest, mount, secret, template, subKeys);
  if (granularity === 'secret-key' && new Set(Object.values(names)).size !== subKeys.length) throw syncErrors.duplicateKeyNames();
  const targets: Record<string, TargetState> = {};
  const kept = previous && !previous.removing ? previous : undefined;
  for (const subKey of subKeys) {
    const old = kept?.targets[subKey];
    targets[subKey] =
      old && old.name === names[subKey]
        ? { ...old, status: 'PENDING', updated_at: at, attempts: 0 }
        : { sub_key: subKey, name: names[subKey]!, status: 'PENDING', updated_at: at };
  }
  const retired = previous ? Object.values(previous.targets).filter((t) => !Object.values(targets).some((n) => n.name === t.name)) : [];
  for (const t of retired) targets[`retired:${t.name}`] = { ...t, status: 'UNSYNCING', updated_at: at };
  const association: Association = {
    dest_type: 'aws-sm',
    dest_name: dest.name,
    accessor: mount.accessor,
    mount: mount.path,
    secret_name: secret,
    granularity,
    template,
    created_at: previous?.created_at ?? at,
    targets,
  };
  if (kept?.prefixes && kept.prefixes.length > 0) association.prefixes = [...kept.prefixes];
  if (kept?.explicit === false) association.explicit = false;
  return association;
}

/** The AWS names an association syncs to now (not the retired ones). */
export function currentNames(a: Association): string[] {
  return Object.entries(a.targets)
    .filter(([key]) => !key.startsWith('retired:'))
    .map(([, t]) => t.name)
    .filter((name) => !name.startsWith('invalid:'));
}

/** Whether a secret path lies under a prefix (a folder: `apps/` covers `apps/x/y`, never `apps2/x`; '' covers all). */
export const underPrefix = (secret: string, prefix: string): boolean => secret.startsWith(prefix);


/** The association as its removal marks it: every target `UNSYNCING`, for the worker to unsync. */
export function markedRemoving(a: Association, at: string): Association {
  const next = structuredClone(a);
  next.removing = true;
  for (const t of Object.values(next.targets)) {
    t.status = 'UNSYNCING';
    t.updated_at = at;
  }
  return next;
}
