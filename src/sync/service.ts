import type { Core } from '../core.js';
import type { TokenEntry, MountEntry } from '../kernel/entries.js';
import { syncErrors } from './errors.js';
import { isKvV2, normaliseMountPath } from '../sys/mount-table.js';
import { withRetry, type WriteOp } from '../store/store.js';
import { readSyncConfig, type SyncConfig } from './config.js';
import {
  applyAwsSmInput,
  checkDestinationType,
  type AwsSmInput,
} from './destinations.js';
import {
  SYNC_QUEUE,
  keys,
  nowIso,
  orderKeyOf,
  type Association,
  type Destination,
  type SyncOperation,
  type TargetState,
} from './model.js';
import type { SecretSource } from './source.js';
import { effectiveTemplate, externalNames } from './naming.js';

const json = (v: unknown) => Buffer.from(JSON.stringify(v));
const parse = <T>(b: Buffer): T => JSON.parse(b.toString('utf8')) as T;

/** An enqueue op for one association's reconcile, in the same commit as the change that needs it. */
export function syncOp(a: Pick<Association, 'dest_type' | 'dest_name' | 'accessor' | 'secret_name'>, reason: SyncOperation['reason']): WriteOp {
  const dest = `${a.dest_type}/${a.dest_name}`;
  const payload: SyncOperation = { dest, accessor: a.accessor, secret_name: a.secret_name, reason };
  return { kind: 'enqueue', queue: SYNC_QUEUE, orderKey: orderKeyOf(dest, a.accessor, a.secret_name), payload: JSON.stringify(payload) };
}

/** Hooks the sync service needs from other features, wired in the composition root. */
export interface SyncServiceDeps {
  core: Core;
  source: SecretSource;
  /** Whether a named identity-token signing key exists (for `identity_token_key` validation). */
  identityKeyExists?: (name: string) => Promise<boolean>;
}

/**
 * Destinations and associations: the rules of the `sys/sync` API. Every change that must
 * reach AWS writes its outbox operation in the same atomic commit as the change itself.
 */
export class SyncService {
  constructor(private readonly deps: SyncServiceDeps) {}

  private get core(): Core {
    return this.deps.core;
  }

  private now(): string {
    return nowIso(this.core.clock());
  }

  async config(): Promise<SyncConfig> {
    return readSyncConfig(this.core.store);
  }

  async updateConfig(change: Partial<SyncConfig> | null): Promise<SyncConfig> {
    return withRetry(async () => {
      const row = await this.core.store.get(keys.config);
      const current = await readSyncConfig(this.core.store);
      const next = change === null ? { disabled: false, queue_capacity: 1_000_000 } : { ...current, ...change };
      if (next.queue_capacity < 1) throw syncErrors.queueCapacity();
      await this.core.store.commit([{ kind: 'put', key: keys.config, value: json(next) }], [{ key: keys.config, revision: row?.revision ?? 0 }]);
      return next;
    });
  }

  // ---- destinations -------------------------------------------------------------------

  async getDestination(type: string, name: string): Promise<Destination | undefined> {
    checkDestinationType(type);
    const row = await this.core.store.get(keys.destination(type, name));
    return row ? parse<Destination>(row.value) : undefined;
  }

  async listDestinations(type?: string): Promise<Record<string, string[]>> {
    const types = type ? [type] : ['aws-sm'];
    if (type) checkDestinationType(type);
    const out: Record<string, string[]> = {};
    for (const t of types) {
      const names = (await this.core.store.list(keys.destinationPrefix(t))).map((n) => decodeURIComponent(n));
      if (names.length > 0) out[t] = names.sort();
    }
    return out;
  }

  async writeDestination(
    type: string,
    name: string,
    input: AwsSmInput,
    explicitNulls: string[],
    mode: 'write' | 'patch',
  ): Promise<Destination> {
    checkDestinationType(type);
    if (!/^[A-Za-z0-9_.-]{1,128}$/.test(name)) throw syncErrors.invalidDestinationName(name);
    return withRetry(async () => {
      const key = keys.destination(type, name);
      const row = await this.core.store.get(key);
      const existing = row ? parse<Destination>(row.value) : undefined;
      if (!existing && mode === 'patch') throw syncErrors.destinationNotFound(type, name);
      const next = applyAwsSmInput(existing, name, input, explicitNulls, mode, this.now());
      const keyName = next.connection.identity_token_key;
      if (keyName && this.deps.identityKeyExists && !(await this.deps.identityKeyExists(keyName))) {
        throw syncErrors.identityKeyMissing(keyName);
      }
      const ops: WriteOp[] = [{ kind: 'put', key, value: json(next) }];
      if (existing) {
        // A changed destination re-queues its failed associations, and all of them when
        // something AWS-side (credentials, tags, KMS key, replicas) changed.
        const awsSideChanged =
          JSON.stringify(existing.connection) !== JSON.stringify(next.connection) ||
          JSON.stringify(existing.options.custom_tags) !== JSON.stringify(next.options.custom_tags);
        for (const a of await this.associationsOf(type, name)) {
          const failed = Object.values(a.targets).some((t) => t.status.endsWith('_ERROR'));
          if (awsSideChanged || failed) ops.push(syncOp(a, 'destination-change'));
        }
      }
      await this.core.store.commit(ops, [{ key, revision: row?.revision ?? 0 }]);
      return next;
    });
  }

  /**
   * Deletes a destination. With associations it needs `purge` (unsync everything, then
   * delete — asynchronously, the destination stays readable meanwhile) or `force_delete`
   * (forget them, leaving the synced secrets in AWS).
   */
  async deleteDestination(type: string, name: string, opts: { purge: boolean; force: boolean }): Promise<void> {
    checkDestinationType(type);
    await withRetry(async () => {
      const key = keys.destination(type, name);
      const row = await this.core.store.get(key);
      if (!row) return;
      const dest = parse<Destination>(row.value);
      const associations = await this.associationsOf(type, name);
      const ops: WriteOp[] = [];
      if (associations.length === 0 || opts.force) {
        ops.push({ kind: 'delete', key }, { kind: 'deletePrefix', prefix: keys.associationPrefix(type, name) });
        for (const a of associations) ops.push({ kind: 'delete', key: keys.bySecret(a.accessor, a.secret_name, type, name) });
      } else if (opts.purge) {
        // A repeated purge re-queues what is still being removed (e.g. after fixing credentials).
        dest.purge_initiated_at ??= this.now();
        delete dest.purge_error;
        ops.push({ kind: 'put', key, value: json(dest) });
        for (const a of associations) {
          const removing = a.removing ? a : this.markRemoving(a);
          ops.push(
            { kind: 'put', key: keys.association(type, name, a.accessor, a.secret_name), value: json(removing) },
            syncOp(a, 'purge'),
          );
        }
      } else {
        throw syncErrors.destinationHasAssociations(type, name, associations.length);
      }
      await this.core.store.commit(ops, [{ key, revision: row.revision }]);
    });
  }

  // ---- associations -----------------------------------------------------------------

  /**
   * Associations as the API shows them: a target recorded as SYNCED whose secret has changed
   * since (delivery paused, waiting out the minimum interval, throttled) shows PENDING.
   */
  async associationsForDisplay(type: string, name: string): Promise<Association[]> {
    const out: Association[] = [];
    for (const a of await this.associationsOf(type, name)) out.push(await this.withDisplayStatus(a));
    return out;
  }

  async withDisplayStatus(a: Association): Promise<Association> {
    if (a.removing) return a;
    const state = await this.deps.source.read(a.accessor, a.secret_name);
    const view = structuredClone(a);
    for (const t of Object.values(view.targets)) {
      if (t.status !== 'SYNCED') continue;
      const current = state?.data != null && t.incarnation === state.incarnation && t.version === state.version;
      if (!current) t.status = 'PENDING';
    }
    return view;
  }

  async associationsOf(type: string, name: string): Promise<Association[]> {
    const rows = await this.core.store.scan(keys.associationPrefix(type, name));
    return rows.map((r) => parse<Association>(r.value));
  }

  async getAssociation(type: string, name: string, accessor: string, secret: string): Promise<Association | undefined> {
    const row = await this.core.store.get(keys.association(type, name, accessor, secret));
    return row ? parse<Association>(row.value) : undefined;
  }

  /** Resolves the `mount` parameter of an association: an exact KV v2 mount path. */
  resolveKvMount(mount: string): MountEntry {
    if (!mount) throw syncErrors.missingField('mount');
    const path = normaliseMountPath(mount);
    const m = this.core.mounts.get(path);
    if (!m) throw syncErrors.mountNotFound(path);
    if (m.type !== 'kv') throw syncErrors.mountNotKv(path, m.type);
    if (!isKvV2(m)) throw syncErrors.mountKvV1(path);
    return m;
  }

  private markRemoving(a: Association): Association {
    const at = this.now();
    const next = structuredClone(a);
    next.removing = true;
    for (const t of Object.values(next.targets)) {
      t.status = 'UNSYNCING';
      t.updated_at = at;
    }
    return next;
  }

  /**
   * `associations/set`: creates the association (or refreshes an existing one, re-applying
   * the destination's current granularity and template) and queues its sync.
   */
  async setAssociation(type: string, name: string, mountParam: string, secretName: string, token: TokenEntry | null): Promise<void> {
    checkDestinationType(type);
    const mount = this.resolveKvMount(mountParam);
    const secret = secretName;
    if (!secret) throw syncErrors.missingField('secret_name');
    if (secret.endsWith('/') || secret.startsWith('/') || secret.split('/').some((s) => s === '')) {
      throw syncErrors.invalidSecretName(secret);
    }
    if (token) {
      const caps = await this.core.authorizer.capabilities(token, `${mount.path}data/${secret}`);
      if (caps.has('deny') || !caps.has('read')) {
        throw syncErrors.secretReadDenied(secret, mount.path.replace(/\/$/, ''));
      }
    }
    await withRetry(async () => {
      const destKey = keys.destination(type, name);
      const destRow = await this.core.store.get(destKey);
      if (!destRow) throw syncErrors.destinationNotFound(type, name);
      const dest = parse<Destination>(destRow.value);
      if (dest.purge_initiated_at) throw syncErrors.destinationPurging(type, name);
      const state = await this.deps.source.read(mount.accessor, secret);
      if (!state) throw syncErrors.secretNotFound(secret, mount.path);

      const key = keys.association(type, name, mount.accessor, secret);
      const row = await this.core.store.get(key);
      const previous = row ? parse<Association>(row.value) : undefined;
      const granularity = dest.options.granularity_level;
      const template = effectiveTemplate(dest.options);
      const subKeys = granularity === 'secret-path' ? [''] : Object.keys(state.data ?? {});
      const names = externalNames(dest, mount, secret, template, subKeys);
      if (granularity === 'secret-key' && new Set(Object.values(names)).size !== subKeys.length) {
        throw syncErrors.duplicateKeyNames();
      }
      const at = this.now();
      const targets: Record<string, TargetState> = {};
      for (const subKey of subKeys) {
        const old = previous && !previous.removing ? previous.targets[subKey] : undefined;
        targets[subKey] =
          old && old.name === names[subKey]
            ? { ...old, status: 'PENDING', updated_at: at, attempts: 0 }
            : { sub_key: subKey, name: names[subKey]!, status: 'PENDING', updated_at: at, owned: false };
      }
      // Targets renamed by a new template or granularity stay listed for removal by the worker.
      const retired = previous ? Object.values(previous.targets).filter((t) => !Object.values(targets).some((n) => n.name === t.name)) : [];
      for (const t of retired) targets[`retired:${t.name}`] = { ...t, status: 'UNSYNCING', updated_at: at };

      const association: Association = {
        dest_type: 'aws-sm',
        dest_name: name,
        accessor: mount.accessor,
        mount: mount.path,
        secret_name: secret,
        granularity,
        template,
        created_at: previous?.created_at ?? at,
        targets,
      };
      await this.core.store.commit(
        [
          { kind: 'put', key, value: json(association) },
          { kind: 'put', key: keys.bySecret(mount.accessor, secret, type, name), value: Buffer.from('') },
          syncOp(association, 'set'),
        ],
        [
          { key, revision: row?.revision ?? 0 },
          { key: destKey, revision: destRow.revision },
        ],
      );
    });
  }

  /** `associations/remove`: marks the association for unsync; the worker deletes it once AWS is clean. */
  async removeAssociation(type: string, name: string, mountParam: string, secretName: string): Promise<void> {
    checkDestinationType(type);
    if (!(await this.getDestination(type, name))) throw syncErrors.destinationNotFound(type, name);
    if (!mountParam) throw syncErrors.missingField('mount');
    if (!secretName) throw syncErrors.missingField('secret_name');
    const m = this.core.mounts.get(normaliseMountPath(mountParam));
    if (!m) throw syncErrors.mountNotFound(normaliseMountPath(mountParam));
    await withRetry(async () => {
      const key = keys.association(type, name, m.accessor, secretName);
      const row = await this.core.store.get(key);
      if (!row) return;
      const a = parse<Association>(row.value);
      if (a.removing) return;
      await this.core.store.commit([{ kind: 'put', key, value: json(this.markRemoving(a)) }, syncOp(a, 'remove')], [
        { key, revision: row.revision },
      ]);
    });
  }

  /** Every association, grouped by secret, for `LIST sys/sync/associations`. */
  async allAssociationsBySecret(): Promise<Array<{ accessor: string; secret: string; destinations: string[] }>> {
    const rows = await this.core.store.scan(keys.bySecretAll);
    const grouped = new Map<string, { accessor: string; secret: string; destinations: string[] }>();
    for (const row of rows) {
      const [accessor, encSecret, dest] = row.key.slice(keys.bySecretAll.length).split('/');
      const id = `${accessor}/${encSecret}`;
      const entry = grouped.get(id) ?? { accessor: accessor!, secret: decodeURIComponent(encSecret!), destinations: [] };
      const [t, encName] = dest!.split(':');
      entry.destinations.push(`${t}/${decodeURIComponent(encName!)}`);
      grouped.set(id, entry);
    }
    return [...grouped.values()];
  }

  async destinationsOfSecret(accessor: string, secret: string): Promise<Association[]> {
    const refs = await this.core.store.list(keys.bySecretPrefix(accessor, secret));
    const out: Association[] = [];
    for (const ref of refs) {
      const [type, encName] = ref.split(':');
      const a = await this.getAssociation(type!, decodeURIComponent(encName!), accessor, secret);
      if (a) out.push(a);
    }
    return out;
  }

  /** Refuses to disable a KV mount that still has associations (a mount unmount guard). */
  async guardUnmount(mount: MountEntry): Promise<void> {
    const rows = await this.core.store.list(`${keys.bySecretAll}${mount.accessor}/`);
    if (rows.length === 0) return;
    const secrets = rows.map((r) => decodeURIComponent(r.replace(/\/$/, '')));
    throw syncErrors.mountHasAssociations(mount.path, secrets);
  }
}
