import { randomUUID } from 'node:crypto';
import pino, { type Logger } from 'pino';
import type { Authorizer, AuditSink, Capability, Core, SealState, ServerInfo } from './core.js';
import type { Backend, PathSpec } from './http/route.js';
import { defineOperation } from './http/route.js';
import { buildOpenApi, type DocumentedBackend } from './http/openapi.js';
import { SqliteStore } from './store/sqlite.js';
import type { Store } from './store/store.js';
import { MountTable, isKvV2, type MountEntry } from './sys/mount-table.js';
import { TokenStore, type TokenEntry } from './auth/token-store.js';
import { tokenLookupPaths } from './auth/token-routes.js';
import { healthPaths } from './sys/health.js';
import { mountPaths } from './sys/mounts.js';
import { internalUiPaths } from './sys/internal-ui.js';
import { kvBackends } from './kv/index.js';
import { identityPaths } from './identity/index.js';

export const FERRY_VERSION = '0.1.0';

export interface CoreOptions {
  /** SQLite file, or `:memory:` for the dev server. */
  storagePath: string;
  dev: boolean;
  /** Dev root token id; random when absent. */
  devRootTokenId?: string;
  apiAddr?: string;
  logger?: Logger;
  clock?: () => number;
  maxRequestSize?: number;
}

export interface Server {
  core: Core;
  /** The root token, in dev mode only (printed at start, as Vault's dev server does). */
  rootToken?: string;
  /** Every backend with the prefix it serves, for routing and for the OpenAPI document. */
  documented: DocumentedBackend[];
  close(): Promise<void>;
}

/** Until ACL policies land, only the root policy grants anything. */
class RootOnlyAuthorizer implements Authorizer {
  async capabilities(token: TokenEntry, path: string): Promise<Set<Capability>> {
    if (token.policies.includes('root')) return new Set<Capability>(['create', 'read', 'update', 'patch', 'delete', 'list', 'sudo']);
    if (path === 'auth/token/lookup-self') return new Set<Capability>(['read', 'update']);
    return new Set();
  }
  async hasAnyUnder(token: TokenEntry): Promise<boolean> {
    return token.policies.includes('root');
  }
}

class AlwaysUnsealed implements SealState {
  status() {
    return { initialized: true, sealed: false, t: 1, n: 1, progress: 0, nonce: '' };
  }
}

const noAudit: AuditSink = { logRequest: async () => {}, logResponse: async () => {} };

/** Builds the domain services and the backends that serve each mount type. */
export async function createServer(opts: CoreOptions): Promise<Server> {
  const log = opts.logger ?? pino({ level: 'silent' });
  const clock = opts.clock ?? Date.now;
  const store: Store = new SqliteStore({ path: opts.storagePath, clock });
  const mounts = new MountTable(store);
  const tokens = new TokenStore(store, clock);
  const info: ServerInfo = {
    version: FERRY_VERSION,
    buildDate: '2026-11-29T00:00:00Z',
    clusterName: 'ferry-cluster',
    clusterId: randomUUID(),
    storageType: opts.dev ? 'inmem' : 'sqlite',
    apiAddr: opts.apiAddr ?? '',
    dev: opts.dev,
  };

  const systemPaths: PathSpec[] = [];
  const tokenPaths: PathSpec[] = [];
  const system: Backend = { mountType: 'system', paths: systemPaths };
  const token: Backend = { mountType: 'token', paths: tokenPaths };
  const identityPathList: PathSpec[] = [];
  const identity: Backend = { mountType: 'identity', paths: identityPathList };
  const engines: Record<string, Backend> = {};

  const core: Core = {
    store,
    mounts,
    tokens,
    authorizer: new RootOnlyAuthorizer(),
    seal: new AlwaysUnsealed(),
    audit: noAudit,
    backendFor: (mount: MountEntry) => {
      switch (mount.type) {
        case 'system':
          return system;
        case 'token':
          return token;
        case 'identity':
          return identity;
        case 'kv':
          return engines[isKvV2(mount) ? 'kv-v2' : 'kv-v1'];
        default:
          return undefined;
      }
    },
    clock,
    log,
    info,
    unmountGuards: [],
    maxRequestSize: opts.maxRequestSize ?? 32 * 1024 * 1024,
  };

  const documented: DocumentedBackend[] = [
    { prefix: 'sys/', backend: system, tag: 'system' },
    { prefix: 'auth/token/', backend: token, tag: 'auth' },
    { prefix: 'identity/', backend: identity, tag: 'identity' },
  ];

  systemPaths.push(...healthPaths(core), ...mountPaths(core), ...internalUiPaths(core), {
    pattern: 'internal/specs/openapi',
    unauthenticated: true,
    raw: true,
    operations: {
      read: defineOperation({
        summary: 'Returns the OpenAPI document of the API this server serves.',
        operationId: 'internal-generate-open-api-document',
        handler: async () => ({ raw: buildOpenApi(documented, FERRY_VERSION) }),
      }),
    },
  });
  tokenPaths.push(...tokenLookupPaths(core));
  identityPathList.push(...identityPaths(core));
  const kv = kvBackends(core);
  engines['kv-v1'] = kv.v1;
  engines['kv-v2'] = kv.v2;
  documented.push(
    { prefix: '{kv_v2_mount_path}/', backend: kv.v2, tag: 'secrets' },
    { prefix: '{kv_v1_mount_path}/', backend: kv.v1, tag: 'secrets' },
  );

  await mounts.load();
  let rootToken: string | undefined;
  if (opts.dev) {
    const created = await tokens.create({
      id: opts.devRootTokenId || undefined,
      policies: ['root'],
      parent: null,
      ttl: 0,
      display_name: 'root',
      path: 'auth/token/root',
    });
    rootToken = created.id;
    if (!mounts.get('secret/')) {
      await mounts.update((all) => {
        all.push(mounts.build('secret/', 'kv', { description: 'key/value secret storage', options: { version: '2' } }));
      });
    }
  }

  return {
    core,
    rootToken,
    documented,
    close: async () => {
      await store.close();
    },
  };
}
