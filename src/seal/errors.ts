import { defineError } from '../kernel/errors.js';

/** Initialisation, unseal and seal errors, as Vault words them. */
export const sealErrors = {
  alreadyInitialized: defineError('seal.already_initialized', 'invalid', () => 'Vault is already initialized'),
  notInitialized: defineError('seal.not_initialized', 'invalid', () => 'Vault is not initialized'),
  invalidConfig: defineError('seal.invalid_config', 'invalid', (reason: string) => `invalid seal configuration: ${reason}`),
  keyTooShort: defineError('seal.key_too_short', 'invalid', () => 'invalid key: key is shorter than minimum 16 bytes'),
  keyTooLong: defineError('seal.key_too_long', 'invalid', () => 'invalid key: key is longer than maximum 33 bytes'),
  invalidKey: defineError('seal.invalid_key', 'invalid', () => 'Unseal failed, invalid key'),
  duplicateShare: defineError(
    'seal.duplicate_share',
    'invalid',
    () => 'Unseal failed, this key share was already provided in the current unseal attempt',
  ),
  /** Resetting unseal progress (or submitting a share) on an unsealed server. */
  unsealed: defineError('seal.unsealed', 'invalid', () => 'vault is unsealed'),
};
