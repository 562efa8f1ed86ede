import { appendFile } from 'node:fs/promises';
import { auditErrors } from './errors.js';

/** One enabled audit device as `sys/audit` lists it (and as the audit table stores it). */
export interface AuditDeviceConfig {
  /** With trailing slash: `file/`. */
  path: string;
  type: string;
  description: string;
  options: Record<string, string>;
  local: boolean;
}

/** Something that takes one formatted audit line at a time. */
export interface AuditDevice {
  readonly config: AuditDeviceConfig;
  /** Prepares the device (creates the file), so that a bad configuration is refused when enabling. */
  open(): Promise<void>;
  /** Resolves once the line is handed to the OS; rejects if it could not be written. */
  write(line: string): Promise<void>;
}

const FILE_OPTIONS = new Set(['file_path', 'path', 'mode', 'prefix', 'format', 'hmac_accessor', 'log_raw', 'elide_list_responses', 'fallback', 'filter']);

/**
 * The `file` device: appends one JSON line per entry. The file is opened per write (in
 * append mode, so lines never interleave) rather than held open: a rotated or removed
 * file is recreated, and a path that has become unwritable fails the write — which is
 * what must stop requests when every device fails. `file_path` may also be `stdout` or
 * `discard`, as in Vault.
 */
export class FileAuditDevice implements AuditDevice {
  private readonly filePath: string;
  private readonly mode: number;
  private readonly prefix: string;
  /** Writes to one file are serialised so lines land in the order they were logged. */
  private queue: Promise<void> = Promise.resolve();

  constructor(readonly config: AuditDeviceConfig) {
    this.filePath = config.options.file_path ?? config.options.path ?? '';
    this.mode = Number.parseInt(config.options.mode ?? '0600', 8);
    this.prefix = config.options.prefix ?? '';
  }

  /** Checks the options, as enabling does before anything is stored. */
  static validate(options: Record<string, string>): void {
    for (const key of Object.keys(options)) {
      if (!FILE_OPTIONS.has(key)) throw auditErrors.unknownOption(key);
    }
    if (!options.file_path && !options.path) throw auditErrors.filePathRequired();
    if (options.mode !== undefined && !/^0?[0-7]{3}$/.test(options.mode)) throw auditErrors.invalidMode(options.mode);
    if (options.format !== undefined && options.format !== 'json') throw auditErrors.unsupportedFormat(options.format);
    // These would write secrets in the clear or change what is hashed: refused rather than half-honoured.
    if (options.log_raw !== undefined && !['false', '0', 'f', 'F', 'FALSE', 'False'].includes(options.log_raw)) {
      throw auditErrors.logRawUnsupported();
    }
    if (options.hmac_accessor !== undefined && !['true', '1', 't', 'T', 'TRUE', 'True'].includes(options.hmac_accessor)) {
      throw auditErrors.unhashedAccessorUnsupported();
    }
  }

  /** Creates the file (with its mode) so that a bad path is refused when enabling. */
  async open(): Promise<void> {
    if (this.filePath === 'stdout' || this.filePath === 'discard') return;
    await appendFile(this.filePath, '', { mode: this.mode });
  }

  write(line: string): Promise<void> {
    const run = this.queue.then(() => this.append(line));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async append(line: string): Promise<void> {
    const text = `${this.prefix}${line}\n`;
    if (this.filePath === 'discard') return;
    if (this.filePath === 'stdout') {
      await new Promise<void>((resolve, reject) => process.stdout.write(text, (err) => (err ? reject(err) : resolve())));
      return;
    }
    await appendFile(this.filePath, text, { mode: this.mode });
  }
}

/** Builds a device for a stored configuration; only `file` exists (Vault's `socket` and `syslog` do not). */
export function createDevice(config: AuditDeviceConfig): AuditDevice {
  if (config.type === 'file') return new FileAuditDevice(config);
  throw auditErrors.unknownType(config.type);
}

export function validateDevice(type: string, options: Record<string, string>): void {
  if (type !== 'file') throw auditErrors.unknownType(type);
  FileAuditDevice.validate(options);
}
