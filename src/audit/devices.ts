import { open } from 'node:fs/promises';
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
 *
 * The file's mode is the `mode` option (default 0600), set when the file is created and
 * restored whenever it is found otherwise, as Vault does; `mode = "0000"` leaves an existing
 * file's mode alone (a new file is then created 0600).
 */
export class FileAuditDevice implements AuditDevice {
  private readonly filePath: string;
  /** The mode the file is kept at; 0: leave it as it is. */
  private readonly mode: number;
  private readonly createMode: number;
  private readonly prefix: string;
  /** Writes to one file are serialised so lines land in the order they were logged. */
  private queue: Promise<void> = Promise.resolve();

  constructor(readonly config: AuditDeviceConfig) {
    this.filePath = config.options.file_path ?? config.options.path ?? '';
    this.mode = Number.parseInt(config.options.mode ?? '0600', 8);
    this.createMode = this.mode === 0 ? 0o600 : this.mode;
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
    await this.appendToFile('');
  }

  /** Appends to the file (created with the mode), first putting its mode right if it is not. */
  private async appendToFile(text: string): Promise<void> {
    const file = await open(this.filePath, 'a', this.createMode);
    try {
      // The creation mode is reduced by the umask, and a file may have been made by someone else.
      if (this.mode !== 0 && ((await file.stat()).mode & 0o777) !== this.mode) await file.chmod(this.mode);
      if (text !== '') await file.appendFile(text);
    } finally {
      await file.close();
    }
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
    await this.appendToFile(text);
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
