import { z } from 'zod';
import { vString } from '../kernel/fields.js';
import { definePath } from '../kernel/request.js';
import type { IdentityDeps } from './deps.js';
import { describeIssuerWarnings, normaliseIssuer, readOidcConfig, writeOidcConfig } from './issuer.js';

/** `identity/oidc/config`: the issuer base URL of Ferry's OIDC issuers. */
export const configPath = (deps: Pick<IdentityDeps, 'store' | 'info'>) =>
  definePath({
    pattern: 'oidc/config',
    operations: (op) => ({
      read: op({
        summary: 'Reads the OIDC configuration (the issuer base URL; empty means api_addr).',
        operationId: 'oidc-read-configuration',
        response: z.object({ issuer: z.string() }),
        handler: async () => ({ data: { issuer: (await readOidcConfig(deps.store)).issuer } }),
      }),
      write: op({
        summary: 'Sets the issuer base URL: a scheme, a host and an optional port.',
        operationId: 'oidc-configure',
        fields: {
          issuer: vString(),
        },
        handler: async (req) => {
          const current = await readOidcConfig(deps.store);
          const issuer = req.data.issuer === undefined ? current.issuer : normaliseIssuer(req.data.issuer);
          await writeOidcConfig(deps.store, { ...current, issuer });
          // Unset is a deliberate choice here; only say what AWS would reject.
          const warnings = issuer === '' ? [] : describeIssuerWarnings(issuer, deps.info.apiAddr);
          return warnings.length > 0 ? { warnings } : undefined;
        },
      }),
    }),
  });
