import { z } from 'zod';
import { notFound } from '../../kernel/errors.js';
import { vBool, vString, vStrings } from '../../kernel/fields.js';
import { definePath } from '../../kernel/request.js';
import { storageOf } from '../login/deps.js';
import { checkRemoteSource, configView, planConfig, type StoredJwtConfig } from './config.js';
import { vJsonObject } from './fields.js';
import type { JwtDeps } from './login.js';

/** `config`: where the mount's verification keys come from (one of three sources), the issuer, the algorithms. */
export const configPath = (deps: JwtDeps) =>
  definePath({
    pattern: 'config',
    operations: (op) => ({
      read: op({
        summary: 'Reads the JWT configuration (never the OIDC client secret).',
        operationId: 'jwt-read-configuration',
        response: z.looseObject({
          oidc_discovery_url: z.string(),
          jwks_url: z.string(),
          jwt_validation_pubkeys: z.array(z.string()),
          jwt_supported_algs: z.array(z.string()),
          bound_issuer: z.string(),
          default_role: z.string(),
          oidc_client_secret: z.never().optional(),
        }),
        handler: async (req) => {
          const config = (await storageOf(deps, req.mount).getJson<StoredJwtConfig>('config'))?.value;
          if (!config) throw notFound();
          return { data: configView(config) };
        },
      }),
      write: op({
        summary: 'Configures the JWT method (replacing the configuration whole).',
        operationId: 'jwt-configure',
        fields: {
          oidc_discovery_url: vString(),
          oidc_discovery_ca_pem: vString(),
          oidc_client_id: vString(),
          oidc_client_secret: vString(),
          oidc_response_mode: vString(),
          oidc_response_types: vStrings(),
          jwks_url: vString(),
          jwks_ca_pem: vString(),
          jwt_validation_pubkeys: vStrings(),
          jwt_supported_algs: vStrings(),
          bound_issuer: vString(),
          default_role: vString(),
          provider_config: vJsonObject(),
          namespace_in_state: vBool(),
          skip_jwks_validation: vBool(),
        },
        handler: async (req) => {
          const { skip_jwks_validation: skip, ...input } = req.data;
          const config = planConfig(input);
          const warnings = await checkRemoteSource(config, skip ?? false);
          const storage = storageOf(deps, req.mount);
          await storage.commit([storage.put('config', config)]);
          return warnings.length > 0 ? { warnings } : undefined;
        },
      }),
    }),
  });
