import { addressAllowed } from '../../kernel/cidr.js';
import { permissionDenied } from '../../kernel/errors.js';
import type { LogicalRequest, LogicalResponse } from '../../kernel/request.js';
import { storageOf, type AuthMethodDeps } from '../login/deps.js';
import { issueLoginToken } from '../login/issue.js';
import { checkBoundClaims, mappedMetadata, userOf } from './claims.js';
import { SUPPORTED_ALGS, type StoredJwtConfig } from './config.js';
import { jwtErrors } from './errors.js';
import type { JwtKeyCache } from './keys.js';
import { effectiveLeeway, readJwtRole } from './roles.js';
import { audiencesOf, verifyToken } from './validate.js';

/** What the JWT method needs beyond what every method does: the mounts' cached key sets. */
export interface JwtDeps extends AuthMethodDeps {
  keys: JwtKeyCache;
}

/**
 * A JWT login with Vault's checks in Vault's order: the configuration, the role (a `jwt`
 * role), the token's presence, the role's token CIDRs (403), the token itself
 * (`verifyToken`), an audience the role does not bind, the user claim and claim mappings,
 * then the bound claims. With OIDC discovery and no `bound_issuer`, the token's `iss` must be
 * the discovered issuer (Vault leaves it unchecked).
 */
export async function jwtLogin(
  deps: JwtDeps,
  req: LogicalRequest<unknown, unknown>,
  input: { role?: string; jwt?: string },
): Promise<LogicalResponse> {
  const storage = storageOf(deps, req.mount);
  const config = (await storage.getJson<StoredJwtConfig>('config'))?.value;
  if (!config) throw jwtErrors.notConfigured();
  const roleName = (input.role ?? '').toLowerCase() || config.default_role;
  if (roleName === '') throw jwtErrors.missingRole();
  const role = await readJwtRole(storage, roleName);
  if (!role) throw jwtErrors.unknownRole(roleName);
  if (role.role_type === 'oidc') throw jwtErrors.oidcRole();
  if (!input.jwt) throw jwtErrors.missingToken();
  if (!addressAllowed(role.settings.token_bound_cidrs, req.remoteAddress)) throw permissionDenied();

  let source;
  try {
    source = await deps.keys.sourceFor(req.mount.uuid, config);
  } catch (err) {
    throw jwtErrors.invalidToken(`error verifying token signature: ${(err as Error).message}`);
  }
  const claims = await verifyToken(
    input.jwt,
    source,
    {
      issuer: config.bound_issuer || (source.kind === 'remote' ? (source.issuer ?? '') : ''),
      subject: role.bound_subject,
      audiences: role.bound_audiences,
      algorithms: config.jwt_supported_algs.length > 0 ? config.jwt_supported_algs : SUPPORTED_ALGS,
      clockSkewLeeway: effectiveLeeway(role.clock_skew_leeway, 60),
      expirationLeeway: effectiveLeeway(role.expiration_leeway, 150),
      notBeforeLeeway: effectiveLeeway(role.not_before_leeway, 150),
    },
    deps.clock(),
  );
  if (role.bound_audiences.length === 0 && audiencesOf(claims).length > 0) throw jwtErrors.unboundAudience();
  const user = userOf(claims, role.user_claim, role.user_claim_json_pointer);
  const metadata = { ...mappedMetadata(claims, role.claim_mappings ?? {}), role: roleName };
  if (role.bound_claims) checkBoundClaims(claims, role.bound_claims, role.bound_claims_type);
  return issueLoginToken(deps, req, { settings: role.settings, metadata, displayName: user });
}
