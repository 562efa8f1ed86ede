import { defineError } from '../../kernel/errors.js';

/** The userpass method's errors, as Vault words them. */
export const userpassErrors = {
  missingPassword: defineError('userpass.missing_password', 'invalid', () => 'missing password'),
  /** The same answer for an unknown user and a wrong password. */
  invalidCredentials: defineError('userpass.invalid_credentials', 'invalid', () => 'invalid username or password'),
  unknownUser: defineError('userpass.unknown_user', 'invalid', () => 'username does not exist'),
  /** Renewing the token of a user deleted since (Vault renews nothing and says nothing; Ferry says why). */
  userGone: defineError('userpass.user_gone', 'invalid', () => 'user no longer exists, not renewing'),
};
