import { z } from 'zod';
import { badRequest, notFound, unsupportedPath } from '../kernel/errors.js';
import { vDuration, vString, vStrings } from '../kernel/fields.js';
import { defineOperation, type PathSpec } from '../kernel/request.js';
import { SIGNING_ALGORITHMS, isSigningAlgorithm, isValidKeyName, type KeySettings, type OidcKeyRing } from './oidc-keys.js';

/** The settings a key read returns; an allow-list: key material never leaves through it. */
const keyResponse = z.object({
  algorithm: z.enum(SIGNING_ALGORITHMS),
  allowed_client_ids: z.array(z.string()),
  rotation_period: z.number().int(),
  verification_ttl: z.number().int(),
});

/** A key name from the path; names outside Vault's generic name rule match no route, as in Vault. */
function keyName(params: Record<string, string>): string {
  const name = params.name!;
  if (!isValidKeyName(name)) throw unsupportedPath();
  return name;
}

/** `identity/oidc/key[/:name[/rotate]]`: named signing keys of the OIDC issuer. */
export function oidcKeyPaths(keys: OidcKeyRing): PathSpec[] {
  return [
    {
      pattern: 'oidc/key',
      operations: {
        list: defineOperation({
          summary: 'Lists the named OIDC signing keys.',
          operationId: 'oidc-list-keys',
          response: z.object({ keys: z.array(z.string()) }),
          handler: async () => ({ data: { keys: await keys.names() } }),
        }),
      },
    },
    {
      pattern: 'oidc/key/:name/rotate',
      operations: {
        write: defineOperation({
          summary: 'Rotates a named OIDC signing key now: the published next key starts signing.',
          operationId: 'oidc-rotate-key',
          fields: {
            verification_ttl: vDuration(),
          },
          handler: async (req) => {
            const name = keyName(req.params);
            if (!(await keys.rotate(name, req.data.verification_ttl))) throw badRequest(`no named key "${name}" found`);
          },
        }),
      },
    },
    {
      pattern: 'oidc/key/:name',
      exists: async (req) => keys.exists(keyName(req.params)),
      operations: {
        read: defineOperation({
          summary: 'Reads the settings of a named OIDC signing key.',
          operationId: 'oidc-read-key',
          response: keyResponse,
          handler: async (req) => {
            const settings = await keys.settings(keyName(req.params));
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
        write: defineOperation({
          summary: 'Creates a named OIDC signing key or updates its settings.',
          operationId: 'oidc-write-key',
          fields: {
            algorithm: vString(),
            rotation_period: vDuration(),
            verification_ttl: vDuration(),
            allowed_client_ids: vStrings(),
          },
          handler: async (req) => {
            const name = keyName(req.params);
            const { algorithm } = req.data;
            if (algorithm !== undefined && !isSigningAlgorithm(algorithm)) throw badRequest(`unknown signing algorithm "${algorithm}"`);
            const patch: Partial<KeySettings> = {
              algorithm,
              rotationPeriod: req.data.rotation_period,
              verificationTtl: req.data.verification_ttl,
              allowedClientIds: req.data.allowed_client_ids,
            };
            await keys.write(name, patch);
          },
        }),
        delete: defineOperation({
          summary: 'Deletes a named OIDC signing key (not `default`).',
          operationId: 'oidc-delete-key',
          handler: async (req) => {
            await keys.delete(keyName(req.params));
          },
        }),
      },
    },
  ];
}
