import { vBool, vString } from '../kernel/fields.js';
import { definePath } from '../kernel/request.js';
import { sealErrors } from '../seal/errors.js';
import type { SystemDeps } from './deps.js';
import { sysErrors } from './errors.js';
import { sealStatusBody } from './seal-view.js';

/** Vault reads an unseal key as hex first, then as standard (padded) base64. */
function decodeKey(key: string): Buffer {
  const k = key.trim();
  if (/^(?:[0-9a-fA-F]{2})+$/.test(k)) return Buffer.from(k, 'hex');
  if (k.length % 4 === 0 && /^[A-Za-z0-9+/]+={0,2}$/.test(k)) return Buffer.from(k, 'base64');
  throw sysErrors.invalidUnsealKey();
}

/** `sys/unseal`: raw, unauthenticated and answered while sealed, as in Vault. */
export const unsealPath = (deps: Pick<SystemDeps, 'seal' | 'info'>) =>
  definePath({
    pattern: 'unseal',
    unauthenticated: true,
    whileSealed: true,
    raw: true,
    description: 'Enters one unseal key share; the barrier opens once the threshold is reached.',
    operations: (op) => ({
      write: op({
        summary: 'Submits an unseal key share, or resets the unseal progress.',
        operationId: 'system-write-unseal',
        fields: { key: vString(), reset: vBool(), migrate: vBool() },
        handler: async (req) => {
          const seal = deps.seal;
          if (req.data.reset) {
            seal.resetProgress();
            return { raw: sealStatusBody(deps) };
          }
          if (!req.data.key) throw sysErrors.unsealKeyRequired();
          if (!seal.status().initialized) throw sealErrors.notInitialized();
          if (seal.status().sealed) await seal.submitShare(decodeKey(req.data.key));
          return { raw: sealStatusBody(deps) };
        },
      }),
    }),
  });
