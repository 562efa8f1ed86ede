import { addressAllowed, displayAddress } from '../../kernel/cidr.js';
import type { LogicalRequest, LogicalResponse } from '../../kernel/request.js';
import { storageOf, type AuthMethodDeps } from '../login/deps.js';
import { issueLoginToken } from '../login/issue.js';
import { approleErrors } from './errors.js';
import { roleByRoleId } from './roles.js';
import { consumeSecretId, type StoredSecretId } from './secret-ids.js';

/**
 * An AppRole login with Vault's checks in Vault's order: the role ID, then the secret ID (its
 * CIDRs, then the role's), then one use of it. The CIDR checks run before the use is spent,
 * so a login from the wrong network does not burn a secret ID. An unknown role ID, and an
 * unknown, expired or used-up secret ID, all get the same answer; the secret ID is HMAC'd
 * and looked up either way, so an unknown role costs what a known one does.
 */
export async function approleLogin(
  deps: AuthMethodDeps,
  req: LogicalRequest<unknown, unknown>,
  credentials: { role_id?: string; secret_id?: string },
): Promise<LogicalResponse> {
  const storage = storageOf(deps, req.mount);
  const roleId = (credentials.role_id ?? '').trim();
  if (roleId === '') throw approleErrors.missingRoleId();
  const secretId = credentials.secret_id ?? '';
  const [role, secretHmac] = await Promise.all([roleByRoleId(storage, roleId), storage.hmac(secretId)]);
  if (!role) {
    // No role name starts with '-': this reads nothing, as the secret-ID read of a known role would.
    await storage.get(`secret-id/-/${secretHmac}`);
    throw approleErrors.invalidCredentials();
  }
  const address = displayAddress(req.remoteAddress);
  const checkRoleCidrs = () => {
    if (!addressAllowed(role.secret_id_bound_cidrs, req.remoteAddress)) throw approleErrors.roleCidrMismatch(address);
  };
  let secret: StoredSecretId | undefined;
  if (role.bind_secret_id) {
    if (secretId === '') throw approleErrors.missingSecretId();
    secret = await consumeSecretId(storage, role.name, secretHmac, deps.clock(), (entry) => {
      if (!addressAllowed(entry.cidr_list, req.remoteAddress)) throw approleErrors.secretCidrMismatch(address);
      checkRoleCidrs();
    });
    if (!secret) throw approleErrors.invalidCredentials();
  } else {
    checkRoleCidrs();
  }
  const tokenCidrs = secret && secret.token_bound_cidrs.length > 0 ? secret.token_bound_cidrs : role.settings.token_bound_cidrs;
  return issueLoginToken(deps, req, {
    settings: { ...role.settings, token_bound_cidrs: tokenCidrs },
    metadata: { ...(secret?.metadata ?? {}), role_name: role.name },
    displayName: '',
  });
}
