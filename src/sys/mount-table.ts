import { randomBytes, randomUUID } from 'node:crypto';
import { mountDataPrefix, type MountEntry } from '../kernel/entries.js';
import { withRetry, type RevisionCheck, type Store, type WriteOp } from '../store/store.js';
import { sysErrors } from './errors.js';

const MOUNTS_KEY = 'core/mounts';

/** Built-in mounts every server has; they cannot be disabled or shadowed. */
const BUILTIN: Array<Pick<MountEntry, 'path' | 'type' | 'description' | 'local'>> = [
  { path: 'sys/', type: 'system', description: 'system endpoints used for control, policy and debugging', local: false },
  { path: 'identity/', type: 'identity', description: 'identity store', local: false },
  { path: 'cubbyhole/', type: 'cubbyhole', description: 'per-token private secret storage', local: true },
  { path: 'auth/token/', type: 'token', description: 'token based credentials', local: false },
];

/** Prefixes users may not mount under (Vault's reserved paths). */
const RESERVED = ['sys/', 'auth/', 'cubbyhole/', 'identity/', 'audit/'];

/** Engine types Ferry can serve, after resolving Vault's shorthands. */
export const SUPPORTED_TYPES = new Set(['kv']);

export function newAccessor(type: string): string {
  return `${type}_${randomBytes(4).toString('hex')}`;
}

/** True for KV version 2 mounts (`kv-v2`, or `kv` with `options.version = "2"`). */
export function isKvV2(mount: MountEntry): boolean {
  return mount.type === 'kv' && mount.options?.version === '2';
}

/** Normalises a user mount path: no leading slash, exactly one trailing slash, no empty segments. */
export function normaliseMountPath(path: string): string {
  const trimmed = path.replace(/^\/+/, '').replace(/\/+$/, '');
  if (trimmed === '') throw sysErrors.emptyMountPath();
  if (trimmed.split('/').some((s) => s === '' || s === '.' || s === '..')) throw sysErrors.invalidMountPath(path);
  return `${trimmed}/`;
}

/**
 * The mount table: which backend serves which path prefix. It is small and read on every
 * request, so it is cached in memory and written through to the store as one entry.
 */
export class MountTable {
  private mounts: MountEntry[] = [];

  constructor(private readonly store: Store) {}

  /** Loads the table, creating the built-in mounts on first start. */
  async load(): Promise<void> {
    const entry = await this.store.get(MOUNTS_KEY);
    this.mounts = entry ? (JSON.parse(entry.value.toString('utf8')) as MountEntry[]) : [];
    const missing = BUILTIN.filter((b) => !this.mounts.some((m) => m.path === b.path));
    if (missing.length > 0) {
      await this.update((mounts) => {
        for (const b of missing) mounts.push(this.build(b.path, b.type, { description: b.description, local: b.local }));
      });
    }
  }

  all(): MountEntry[] {
    return [...this.mounts].sort((a, b) => a.path.localeCompare(b.path));
  }

  get(path: string): MountEntry | undefined {
    return this.mounts.find((m) => m.path === path);
  }

  byAccessor(accessor: string): MountEntry | undefined {
    return this.mounts.find((m) => m.accessor === accessor);
  }

  hasAccessor(accessor: string): boolean {
    return this.byAccessor(accessor) !== undefined;
  }

  /** Longest-prefix match of a logical path; `foo` also matches the mount `foo/`. */
  resolve(path: string): MountEntry | undefined {
    const withSlash = path.endsWith('/') ? path : `${path}/`;
    let best: MountEntry | undefined;
    for (const m of this.mounts) {
      if (withSlash.startsWith(m.path) && (!best || m.path.length > best.path.length)) best = m;
    }
    return best;
  }

  isBuiltin(path: string): boolean {
    return BUILTIN.some((b) => b.path === path);
  }

  /** Built-in mounts and anything under a reserved prefix (auth methods are disabled through `sys/auth`). */
  isProtected(path: string): boolean {
    return this.isBuiltin(path) || RESERVED.some((r) => path.startsWith(r));
  }

  build(
    path: string,
    type: string,
    extra: Partial<Omit<MountEntry, 'path' | 'type'>> = {},
  ): MountEntry {
    return {
      path,
      type,
      description: extra.description ?? '',
      // Auth mounts' accessors read `auth_approle_1a2b3c4d`, as Vault's do.
      accessor: extra.accessor ?? newAccessor(path.startsWith('auth/') ? `auth_${type}` : type),
      uuid: extra.uuid ?? randomUUID(),
      config: extra.config ?? { default_lease_ttl: 0, max_lease_ttl: 0, force_no_cache: false },
      options: extra.options ?? null,
      local: extra.local ?? false,
      seal_wrap: extra.seal_wrap ?? false,
      external_entropy_access: extra.external_entropy_access ?? false,
      plugin_version: extra.plugin_version ?? '',
      created: Date.now(),
    };
  }

  /** Checks that `path` can be mounted: not reserved, not taken, not overlapping another mount. */
  checkAvailable(path: string): void {
    if (RESERVED.some((r) => path.startsWith(r))) throw sysErrors.reservedMountPath(path);
    if (this.get(path)) throw sysErrors.mountPathInUse(path);
    for (const m of this.mounts) {
      if (path.startsWith(m.path) || m.path.startsWith(path)) throw sysErrors.overlappingMount(m.path);
    }
  }

  /**
   * Checks that the auth mount `path` (`auth/approle/`) can be enabled in `table`: no auth mount
   * at it, above it or below it. Vault answers a clash with 409, naming the existing mount
   * relative to `auth/`.
   */
  static checkAuthAvailable(table: MountEntry[], path: string): void {
    for (const m of table) {
      if (!m.path.startsWith('auth/')) continue;
      if (path.startsWith(m.path) || m.path.startsWith(path)) throw sysErrors.authPathInUse(m.path.slice('auth/'.length));
    }
  }

  /**
   * Applies a change to the table and persists it in one atomic store action, together
   * with any extra ops (e.g. deleting a disabled mount's data).
   */
  async update(change: (mounts: MountEntry[]) => void, extraOps: (mounts: MountEntry[]) => WriteOp[] = () => []): Promise<void> {
    await withRetry(async () => {
      const entry = await this.store.get(MOUNTS_KEY);
      const current = entry ? (JSON.parse(entry.value.toString('utf8')) as MountEntry[]) : [];
      const next = structuredClone(current);
      change(next);
      await this.store.commit(
        [{ kind: 'put', key: MOUNTS_KEY, value: Buffer.from(JSON.stringify(next)) }, ...extraOps(next)],
        [{ key: MOUNTS_KEY, revision: entry?.revision ?? 0 }],
      );
      this.mounts = next;
    });
  }

  /**
   * The table as stored, with the check that makes a commit apply only while it is unchanged
   * (a long job writing on a mount's behalf, which must stop if the mount goes).
   */
  async snapshot(): Promise<{ mounts: MountEntry[]; check: RevisionCheck }> {
    const entry = await this.store.get(MOUNTS_KEY);
    const mounts = entry ? (JSON.parse(entry.value.toString('utf8')) as MountEntry[]) : [];
    return { mounts, check: { key: MOUNTS_KEY, revision: entry?.revision ?? 0 } };
  }

  /** Storage prefix under which a mount's backend keeps its data. */
  static dataPrefix(mount: MountEntry): string {
    return mountDataPrefix(mount);
  }

  /** Storage prefix of one storage area (a mount's, or one a KV upgrade is building). */
  static areaPrefix(area: string): string {
    return `logical/${area}/`;
  }
}
