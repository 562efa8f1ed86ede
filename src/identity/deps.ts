import type { Logger } from 'pino';
import type { ServerInfo } from '../kernel/services.js';
import type { Store } from '../store/store.js';

/** What the identity feature (the OIDC issuer of secrets sync) needs, wired in the composition root. */
export interface IdentityDeps {
  store: Store;
  clock: () => number;
  /** `apiAddr`, the issuer's default base URL. */
  info: ServerInfo;
  log: Logger;
}
