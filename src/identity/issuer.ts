import type { IdentityDeps } from './deps.js';
import type { Store } from '../store/store.js';
import { identityErrors } from './errors.js';

const CONFIG_KEY = 'identity/oidc/config';
/** Where the secrets-sync issuer lives under the server's base URL (root namespace). */
export const SECRETS_SYNC_ISSUER_PATH = '/v1/identity/oidc/secrets-sync';

/** `identity/oidc/config`: an empty issuer means "use api_addr", as in Vault. */
export interface OidcConfig {
  issuer: string;
}

/**
 * Validates an issuer base URL (scheme, host, optional port; nothing else) and returns it
 * normalised to its origin, so the `iss` of minted tokens never carries a stray slash that
 * AWS's byte-for-byte comparison with the IAM provider URL would reject. `""` resets it.
 */
export function normaliseIssuer(value: string): string {
  const text = value.trim();
  if (text === '') return '';
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw identityErrors.invalidIssuer();
  }
  const schemeOk = url.protocol === 'https:' || url.protocol === 'http:';
  const onlyOrigin = (url.pathname === '/' || url.pathname === '') && !/[?#]/.test(text) && url.username === '' && url.password === '';
  if (!schemeOk || url.hostname === '' || !onlyOrigin) throw identityErrors.invalidIssuer();
  return url.origin;
}

export async function readOidcConfig(store: Store): Promise<OidcConfig> {
  const entry = await store.get(CONFIG_KEY);
  if (!entry) return { issuer: '' };
  return JSON.parse(entry.value.toString('utf8')) as OidcConfig;
}

export async function writeOidcConfig(store: Store, config: OidcConfig): Promise<void> {
  await store.commit([{ kind: 'put', key: CONFIG_KEY, value: Buffer.from(JSON.stringify(config)) }]);
}

/** The base URL the issuer is built from: the configured issuer, else `api_addr`. */
function issuerBase(configured: string, apiAddr: string): string {
  return (configured || apiAddr).replace(/\/+$/, '');
}

/** The `iss` of secrets-sync identity tokens, and the URL AWS's IAM OIDC provider must be given. */
export async function secretsSyncIssuer(deps: Pick<IdentityDeps, 'store' | 'info'>): Promise<string> {
  const { issuer } = await readOidcConfig(deps.store);
  return issuerBase(issuer, deps.info.apiAddr) + SECRETS_SYNC_ISSUER_PATH;
}

/** Warnings about an issuer AWS could not use; pure, for `issuerWarnings` and the config endpoint. */
export function describeIssuerWarnings(configured: string, apiAddr: string): string[] {
  const warnings: string[] = [];
  const base = issuerBase(configured, apiAddr);
  if (configured === '') {
    if (base === '') {
      warnings.push(
        'neither identity/oidc/config "issuer" nor api_addr is set: secrets-sync identity tokens have an issuer without a host, which AWS cannot verify',
      );
      return warnings;
    }
    warnings.push(`identity/oidc/config sets no "issuer": the secrets-sync OIDC issuer is built from api_addr (${base})`);
  }
  const issuer = base + SECRETS_SYNC_ISSUER_PATH;
  if (!/^https:\/\//i.test(base)) {
    warnings.push(`the secrets-sync OIDC issuer ${issuer} is not https: AWS fetches the discovery document and keys over HTTPS only`);
  }
  if (/^[a-z][a-z0-9+.-]*:\/\/(?:\[[^\]]*\]|[^/:]*):\d*/i.test(base)) {
    warnings.push(
      `the secrets-sync OIDC issuer ${issuer} carries a port: an AWS IAM OIDC provider URL takes none, so set identity/oidc/config "issuer" to a URL without one`,
    );
  }
  return warnings;
}

