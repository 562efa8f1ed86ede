import { z } from 'zod';
import { notFound } from '../kernel/errors.js';
import { vDuration, vString, vStrings } from '../kernel/fields.js';
import { definePath, type PathSpec } from '../kernel/request.js';
import { identityErrors } from './errors.js';
import { SIGNING_ALGORITHMS, isSigningAlgorithm, keyNameParam, type KeySettings, type OidcKeyRing } from './oidc-keys.js';

/** The settings a key read returns; an allow-list: key material never leaves through it. */
const keyResponse = z.object({
  algorithm: z.enum(SIGNING_ALGORITHMS),
  allowed_client_ids: z.array(z.string()),
  rotation_period: z.number().int(),
  verification_ttl: z.number().int(),
});

/** `identity/oidc/key[/:name]`: named signing keys of the OIDC issuer. */
export const keyPaths = (keys: OidcKeyRing): PathSpec[] => [
  definePath({
    pattern: 'oidc/key',
    operations: (op) => ({
      list: op({
        summary: 'Lists the named OIDC signing keys.',
        operationId: 'oidc-list-keys',
        response: z.object({ keys: z.array(z.string()) }),
        handler: async () => ({ data: { keys: await keys.names() } }),
      }),
    }),
  }),
  definePath({
    pattern: 'oidc/key/:name',
    params: { name: keyNameParam() },
    exists: async (req) => keys.exists(req.params.name),
    operations: (op) => ({
      read: op({
        summary: 'Reads the settings of a named OIDC signing key.',
        operationId: 'oidc-read-key',
        response: keyResponse,
        handler: async (req) => {
          const settings = await keys.settings(req.params.name);
          if (!settings) throw notFound();
          return {
            data: {
              algorithm: settings.algorithm,
              allowed_client_ids: settings.allowedClientIds,
              rotation_period: settings.rotationPeriod,
              verification_ttl: settings.verificationTtl,
            },
          };
        },
      }),
      write: op({
        summary: 'Creates a named OIDC signing key or updates its settings.',
        operationId: 'oidc-write-key',
        fields: {
          algorithm: vString(),
          rotation_period: vDuration(),
          verification_ttl: vDuration(),
          allowed_client_ids: vStrings(),
        },
        handler: async (req) => {
          const { algorithm } = req.data;
          if (algorithm !== undefined && !isSigningAlgorithm(algorithm)) throw identityErrors.unknownAlgorithm(algorithm);
          const patch: Partial<KeySettings> = {
            algorithm,
            rotationPeriod: req.data.rotation_period,
            verificationTtl: req.data.verification_ttl,
            allowedClientIds: req.data.allowed_client_ids,
          };
          await keys.write(req.params.name, patch);
        },
      }),
      delete: op({
        summary: 'Deletes a named OIDC signing key (not `default`).',
        operationId: 'oidc-delete-key',
        handler: async (req) => {
          await keys.delete(req.params.name);
        },
      }),
    }),
  }),
];
