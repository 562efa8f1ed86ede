import type { MountEntry } from './entries.js';
import type { Backend } from './request.js';
import type { BackendResolver } from './services.js';

/**
 * Which backend serves a mount, by mount type. The composition root registers one entry per
 * type Ferry implements (`system`, `token`, `identity`, `kv`, …); a type may choose among
 * backends by the mount's options (KV version 1 or 2). Unregistered types resolve to nothing,
 * which the request pipeline answers as Vault does an unsupported path.
 */
export class BackendRegistry implements BackendResolver {
  private readonly byType = new Map<string, (mount: MountEntry) => Backend>();

  /** Registers the backend of a mount type; a type is registered once. */
  register(mountType: string, backend: Backend | ((mount: MountEntry) => Backend)): this {
    if (this.byType.has(mountType)) throw new Error(`a backend for mount type "${mountType}" is already registered`);
    this.byType.set(mountType, typeof backend === 'function' ? backend : () => backend);
    return this;
  }

  backendFor(mount: MountEntry): Backend | undefined {
    return this.byType.get(mount.type)?.(mount);
  }
}
