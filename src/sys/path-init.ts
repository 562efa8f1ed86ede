import { vInt, vString, vStrings } from '../kernel/fields.js';
import { definePath } from '../kernel/request.js';
import type { SystemDeps } from './deps.js';
import { sysErrors } from './errors.js';

/** `sys/init`: raw, unauthenticated and answered while sealed, as in Vault. */
export const initPath = (deps: Pick<SystemDeps, 'seal'>) =>
  definePath({
    pattern: 'init',
    unauthenticated: true,
    whileSealed: true,
    raw: true,
    description: 'Initialises a new server: creates the root key, splits it into key shares, and creates the root token.',
    operations: (op) => ({
      read: op({
        summary: 'Returns whether the server is initialised.',
        operationId: 'system-read-init',
        handler: async () => ({ raw: { initialized: deps.seal.status().initialized } }),
      }),
      write: op({
        summary: 'Initialises the server; returns the unseal key shares and the root token.',
        operationId: 'system-write-init',
        fields: {
          secret_shares: vInt(),
          secret_threshold: vInt(),
          stored_shares: vInt(),
          pgp_keys: vStrings(),
          recovery_shares: vInt(),
          recovery_threshold: vInt(),
          recovery_pgp_keys: vStrings(),
          root_token_pgp_key: vString(),
        },
        handler: async (req) => {
          const d = req.data;
          if (d.pgp_keys && d.pgp_keys.length > 0) throw sysErrors.pgpKeysUnsupported();
          if (d.root_token_pgp_key) throw sysErrors.rootTokenPgpKeyUnsupported();
          if ((d.stored_shares ?? 0) > 0) throw sysErrors.storedSharesUnsupported();
          if ((d.recovery_shares ?? 0) > 0 || (d.recovery_threshold ?? 0) > 0 || (d.recovery_pgp_keys?.length ?? 0) > 0) {
            throw sysErrors.recoveryUnsupported();
          }
          const result = await deps.seal.initialize({ secretShares: d.secret_shares ?? 0, secretThreshold: d.secret_threshold ?? 0 });
          const raw = {
            keys: result.keys.map((k) => k.toString('hex')),
            keys_base64: result.keys.map((k) => k.toString('base64')),
            root_token: result.rootToken,
          };
          result.keys.forEach((k) => k.fill(0));
          return { raw };
        },
      }),
    }),
  });
