import { z } from 'zod';
import type { SystemDeps } from './deps.js';
import { badRequest } from '../kernel/errors.js';
import { vBool, vInt, vString, vStrings } from '../kernel/fields.js';
import { defineOperation, type PathSpec } from '../kernel/request.js';
import type { SealManager } from '../seal/seal-manager.js';
import type { BarrierStore } from '../store/barrier.js';
import { sealStatusBody } from './health.js';

/** Vault reads an unseal key as hex first, then as standard (padded) base64. */
function decodeKey(key: string): Buffer {
  const k = key.trim();
  if (/^(?:[0-9a-fA-F]{2})+$/.test(k)) return Buffer.from(k, 'hex');
  if (k.length % 4 === 0 && /^[A-Za-z0-9+/]+={0,2}$/.test(k)) return Buffer.from(k, 'base64');
  throw badRequest("'key' must be a valid hex or base64 string");
}

/**
 * `sys/init`, `sys/unseal`, `sys/seal`, `sys/rotate` and `sys/key-status`. Init and unseal
 * are raw, unauthenticated and answer while sealed, as in Vault; seal, rotate and
 * key-status are root-protected (sudo).
 */
export function sealPaths(core: SystemDeps, seal: SealManager, barrier: BarrierStore): PathSpec[] {
  return [
    {
      pattern: 'init',
      unauthenticated: true,
      whileSealed: true,
      raw: true,
      description: 'Initialises a new server: creates the root key, splits it into key shares, and creates the root token.',
      operations: {
        read: defineOperation({
          summary: 'Returns whether the server is initialised.',
          operationId: 'system-read-init',
          handler: async () => ({ raw: { initialized: seal.status().initialized } }),
        }),
        write: defineOperation({
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
            if (d.pgp_keys && d.pgp_keys.length > 0) throw badRequest('pgp_keys are not supported: Ferry returns the key shares unencrypted');
            if (d.root_token_pgp_key) throw badRequest('root_token_pgp_key is not supported: Ferry returns the root token unencrypted');
            if ((d.stored_shares ?? 0) > 0) throw badRequest('stored keys are not supported by the current seal type');
            if ((d.recovery_shares ?? 0) > 0 || (d.recovery_threshold ?? 0) > 0 || (d.recovery_pgp_keys?.length ?? 0) > 0) {
              throw badRequest('parameters recovery_shares,recovery_threshold not applicable to seal type shamir');
            }
            const result = await seal.initialize({ secretShares: d.secret_shares ?? 0, secretThreshold: d.secret_threshold ?? 0 });
            const raw = {
              keys: result.keys.map((k) => k.toString('hex')),
              keys_base64: result.keys.map((k) => k.toString('base64')),
              root_token: result.rootToken,
            };
            result.keys.forEach((k) => k.fill(0));
            return { raw };
          },
        }),
      },
    },
    {
      pattern: 'unseal',
      unauthenticated: true,
      whileSealed: true,
      raw: true,
      description: 'Enters one unseal key share; the barrier opens once the threshold is reached.',
      operations: {
        write: defineOperation({
          summary: 'Submits an unseal key share, or resets the unseal progress.',
          operationId: 'system-write-unseal',
          fields: { key: vString(), reset: vBool(), migrate: vBool() },
          handler: async (req) => {
            if (req.data.reset) {
              seal.resetProgress();
              return { raw: sealStatusBody(core) };
            }
            if (!req.data.key) throw badRequest("'key' must be specified in request body as JSON, or 'reset' set to true");
            if (!seal.status().initialized) throw badRequest('Vault is not initialized');
            if (seal.status().sealed) await seal.submitShare(decodeKey(req.data.key));
            return { raw: sealStatusBody(core) };
          },
        }),
      },
    },
    {
      pattern: 'seal',
      sudo: true,
      operations: {
        write: defineOperation({
          summary: 'Seals the server: drops the root key and every cached secret from memory.',
          operationId: 'system-write-seal',
          handler: async () => {
            await seal.seal();
          },
        }),
      },
    },
    {
      pattern: 'rotate',
      sudo: true,
      operations: {
        write: defineOperation({
          summary: 'Adds a new data encryption key to the keyring; new writes use it, older values keep decrypting.',
          operationId: 'encryption-key-rotate',
          handler: async () => {
            const t = await barrier.rotate(new Date(core.clock()));
            core.log.info({ term: t.term }, 'barrier key rotated');
          },
        }),
      },
    },
    {
      pattern: 'key-status',
      sudo: true,
      injector: true,
      operations: {
        read: defineOperation({
          summary: 'Returns the term and install time of the active data encryption key.',
          operationId: 'encryption-key-status',
          response: z.object({ term: z.number().int(), install_time: z.string(), encryptions: z.number().int() }),
          handler: async () => {
            const s = barrier.keyStatus();
            return { data: { term: s.term, install_time: s.installTime, encryptions: s.encryptions } };
          },
        }),
      },
    },
  ];
}
