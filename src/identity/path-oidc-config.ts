import { z } from 'zod';
import type { IdentityDeps } from './deps.js';
import { vString } from '../kernel/fields.js';
import { defineOperation, type PathSpec } from '../kernel/request.js';
import { describeIssuerWarnings, normaliseIssuer, readOidcConfig, writeOidcConfig } from './issuer.js';

/** `identity/oidc/config`: the issuer base URL of Ferry's OIDC issuers. */
export function oidcConfigPaths(core: IdentityDeps): PathSpec[] {
  return [
    {
      pattern: 'oidc/config',
      operations: {
        read: defineOperation({
          summary: 'Reads the OIDC configuration (the issuer base URL; empty means api_addr).',
          operationId: 'oidc-read-configuration',
          response: z.object({ issuer: z.string() }),
          handler: async () => ({ data: { issuer: (await readOidcConfig(core.store)).issuer } }),
        }),
        write: defineOperation({
          summary: 'Sets the issuer base URL: a scheme, a host and an optional port.',
          operationId: 'oidc-configure',
          fields: {
            issuer: vString(),
          },
          handler: async (req) => {
            const current = await readOidcConfig(core.store);
            const issuer = req.data.issuer === undefined ? current.issuer : normaliseIssuer(req.data.issuer);
            await writeOidcConfig(core.store, { ...current, issuer });
            // Unset is a deliberate choice here; only say what AWS would reject.
            const warnings = issuer === '' ? [] : describeIssuerWarnings(issuer, core.info.apiAddr);
            return warnings.length > 0 ? { warnings } : undefined;
          },
        }),
      },
    },
  ];
}
