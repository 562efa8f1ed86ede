import { defineError } from '../kernel/errors.js';

/** Audit device errors, as Vault words them. */
export const auditErrors = {
  pathRequired: defineError('audit.path_required', 'invalid', () => 'path is required'),
  pathInUse: defineError('audit.path_in_use', 'invalid', () => 'path already in use'),
  cannotOpen: defineError('audit.cannot_open', 'invalid', (reason: string) => `sys/audit: error enabling audit device: ${reason}`),
  unknownDevice: defineError('audit.unknown_device', 'invalid', () => 'unknown audit backend'),
  unknownType: defineError('audit.unknown_type', 'invalid', (type: string) => `unknown backend type: "${type}"`),
  unknownOption: defineError('audit.unknown_option', 'invalid', (key: string) => `unknown option "${key}" for the file audit device`),
  filePathRequired: defineError('audit.file_path_required', 'invalid', () => 'file_path is required'),
  invalidMode: defineError('audit.invalid_mode', 'invalid', (mode: string) => `invalid mode "${mode}"`),
  unsupportedFormat: defineError('audit.unsupported_format', 'invalid', (format: string) => `unsupported format "${format}": Ferry writes json`),
  logRawUnsupported: defineError(
    'audit.log_raw_unsupported',
    'invalid',
    () => 'log_raw is not supported: Ferry always hashes secrets in the audit log',
  ),
  unhashedAccessorUnsupported: defineError(
    'audit.unhashed_accessor_unsupported',
    'invalid',
    () => 'hmac_accessor=false is not supported: Ferry always hashes accessors in the audit log',
  ),
  /** No device could record an entry: the request fails, and the reason stays in the server log (Vault's behaviour). */
  allDevicesFailed: defineError('audit.all_devices_failed', 'internal', () => 'internal error'),
};
