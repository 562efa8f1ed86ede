import type { Logger } from 'pino';
import type { AuditSink } from '../kernel/services.js';
import type { LogicalRequest, LogicalResponse } from '../kernel/request.js';
import { withRetry, type Store } from '../store/store.js';
import { auditErrors } from './errors.js';
import { createDevice, validateDevice, type AuditDevice, type AuditDeviceConfig } from './devices.js';
import { AuditHasher } from './hash.js';

const TABLE_KEY = 'core/audit';

/**
 * Unauthenticated endpoints that Vault answers outside its request router and never
 * audits: status probes that load balancers poll, and init/unseal (which run while no
 * device can be loaded anyway, the device table being behind the barrier).
 */
const UNAUDITED = new Set(['sys/health', 'sys/seal-status', 'sys/leader', 'sys/init', 'sys/unseal']);

/** Normalises a device path: no leading slash, one trailing slash. */
export function auditPath(raw: string): string {
  const p = raw.replace(/^\/+/, '').replace(/\/+$/, '');
  if (p === '') throw auditErrors.pathRequired();
  return `${p}/`;
}

/**
 * The audit broker: the enabled devices (their table lives behind the barrier and is
 * loaded on unseal), and the formatting of Vault-shaped request/response entries in
 * which every string of request and response data, and every token and accessor, is
 * replaced by its HMAC. When every enabled device fails to write an entry the call
 * rejects with an internal error, so the request pipeline never runs a handler for an
 * unaudited request.
 */
export class AuditBroker implements AuditSink {
  private devices: AuditDevice[] = [];
  readonly hasher: AuditHasher;

  constructor(
    private readonly store: Store,
    private readonly log: Logger,
    private readonly clock: () => number = Date.now,
  ) {
    this.hasher = new AuditHasher(store);
  }

  // --- device table ----------------------------------------------------------------------

  /** Loads the device table (on unseal). Devices whose file is broken stay enabled and fail their writes. */
  async load(): Promise<void> {
    const row = await this.store.get(TABLE_KEY);
    const table = row ? (JSON.parse(row.value.toString('utf8')) as AuditDeviceConfig[]) : [];
    this.devices = table.map((c) => createDevice(c));
    if (this.devices.length > 0) await this.hasher.ready();
  }

  /**
   * SIGHUP: reopens every file device (for logrotate, as Vault does). A file device opens its
   * file for each line, so a rotated file is never written again anyway; this recreates the
   * file at its path, with its mode, at once. Resolves how many devices were reopened; a device
   * that cannot be reopened is logged and keeps failing its writes.
   */
  async reopen(): Promise<number> {
    let reopened = 0;
    for (const device of this.devices) {
      try {
        await device.open();
        reopened++;
      } catch (err) {
        this.log.error({ device: device.config.path, code: (err as NodeJS.ErrnoException).code }, 'audit device could not be reopened');
      }
    }
    return reopened;
  }

  /** Drops the devices and the salt from memory (on seal). */
  reset(): void {
    this.devices = [];
    this.hasher.reset();
  }

  list(): AuditDeviceConfig[] {
    return this.devices.map((d) => d.config).sort((a, b) => a.path.localeCompare(b.path));
  }

  has(path: string): boolean {
    return this.devices.some((d) => d.config.path === path);
  }

  async enable(config: AuditDeviceConfig): Promise<void> {
    validateDevice(config.type, config.options);
    if (this.has(config.path)) throw auditErrors.pathInUse();
    const device = createDevice(config);
    try {
      await device.open();
    } catch (err) {
      throw auditErrors.cannotOpen((err as NodeJS.ErrnoException).code ?? 'cannot open file');
    }
    await this.hasher.ready();
    await this.updateTable((table) => {
      if (table.some((c) => c.path === config.path)) throw auditErrors.pathInUse();
      table.push(config);
    });
    this.devices.push(device);
  }

  async disable(path: string): Promise<void> {
    await this.updateTable((table) => table.filter((c) => c.path !== path));
    this.devices = this.devices.filter((d) => d.config.path !== path);
  }

  private async updateTable(change: (t: AuditDeviceConfig[]) => AuditDeviceConfig[] | void): Promise<void> {
    await withRetry(async () => {
      const row = await this.store.get(TABLE_KEY);
      const table = row ? (JSON.parse(row.value.toString('utf8')) as AuditDeviceConfig[]) : [];
      const next = change(table) ?? table;
      await this.store.commit(
        [{ kind: 'put', key: TABLE_KEY, value: Buffer.from(JSON.stringify(next)) }],
        [{ key: TABLE_KEY, revision: row?.revision ?? 0 }],
      );
    });
  }

  /** `sys/audit-hash/:path`: the digest the device at `path` writes for `input`. */
  async hashFor(path: string, input: string): Promise<string> {
    if (!this.has(path)) throw auditErrors.unknownDevice();
    await this.hasher.ready();
    return this.hasher.hash(input);
  }

  // --- entries -----------------------------------------------------------------------------

  audits(path: string): boolean {
    return this.devices.length > 0 && !UNAUDITED.has(path);
  }

  async logRequest(req: LogicalRequest<unknown, unknown>, error?: string): Promise<void> {
    if (this.devices.length === 0 || UNAUDITED.has(req.path)) return;
    await this.hasher.ready();
    await this.write(
      {
        time: new Date(this.clock()).toISOString(),
        type: 'request',
        auth: this.authObject(req),
        request: this.requestObject(req),
        ...(error ? { error } : {}),
      },
      req,
    );
  }

  async logResponse(req: LogicalRequest<unknown, unknown>, res: LogicalResponse | undefined, _status: number, error?: string): Promise<void> {
    if (this.devices.length === 0 || UNAUDITED.has(req.path)) return;
    await this.hasher.ready();
    const h = this.hasher;
    const response: Record<string, unknown> = {
      mount_point: req.mount.path,
      mount_type: req.mount.type,
      mount_accessor: req.mount.accessor,
    };
    if (res?.auth) response.auth = this.issuedAuth(res.auth);
    const data = res?.raw !== undefined ? res.raw : res?.data;
    if (data !== undefined && data !== null) response.data = h.hashStructure(data);
    if (res?.warnings && res.warnings.length > 0) response.warnings = res.warnings;
    await this.write(
      {
        time: new Date(this.clock()).toISOString(),
        type: 'response',
        auth: this.authObject(req),
        request: this.requestObject(req),
        response,
        ...(error ? { error } : {}),
      },
      req,
    );
  }

  private authObject(req: LogicalRequest<unknown, unknown>): Record<string, unknown> {
    const t = req.token;
    if (!t || !req.clientToken) return {};
    const h = this.hasher;
    return {
      client_token: h.hash(req.clientToken),
      // Batch tokens have no accessor: an empty one stays empty rather than becoming a digest.
      accessor: t.accessor === '' ? '' : h.hash(t.accessor),
      display_name: t.display_name,
      policies: t.policies,
      token_policies: t.policies,
      ...(t.meta ? { metadata: t.meta } : {}),
      entity_id: '',
      token_type: t.type,
      token_ttl: t.creation_ttl,
      token_issue_time: new Date(t.creation_time * 1000).toISOString(),
    };
  }

  /** The auth block a response hands out (token create, renew): token and accessor hashed. */
  private issuedAuth(auth: Record<string, unknown>): Record<string, unknown> {
    const h = this.hasher;
    const out: Record<string, unknown> = { ...auth };
    for (const k of ['client_token', 'accessor']) {
      if (typeof out[k] === 'string' && out[k] !== '') out[k] = h.hash(out[k] as string);
    }
    return out;
  }

  private requestObject(req: LogicalRequest<unknown, unknown>): Record<string, unknown> {
    const h = this.hasher;
    const out: Record<string, unknown> = {
      id: req.requestId,
      operation: req.operation,
      mount_point: req.mount.path,
      mount_type: req.mount.type,
      mount_accessor: req.mount.accessor,
      ...(req.clientToken ? { client_token: h.hash(req.clientToken) } : {}),
      ...(req.token?.accessor ? { client_token_accessor: h.hash(req.token.accessor) } : {}),
      namespace: { id: 'root' },
      path: req.path,
    };
    if (Object.keys(req.raw).length > 0) out.data = h.hashStructure(req.raw);
    out.remote_address = req.remoteAddress.replace(/^::ffff:/, '');
    return out;
  }

  private async write(entry: Record<string, unknown>, req: LogicalRequest<unknown, unknown>): Promise<void> {
    const line = JSON.stringify(entry);
    const devices = this.devices;
    const results = await Promise.allSettled(devices.map((d) => d.write(line)));
    const failed = results.flatMap((r, i) => (r.status === 'rejected' ? [{ device: devices[i]!.config.path, reason: r.reason }] : []));
    for (const f of failed) {
      this.log.error({ device: f.device, err: f.reason, requestId: req.requestId }, 'audit device failed to write an entry');
    }
    if (devices.length > 0 && failed.length === devices.length) {
      throw auditErrors.allDevicesFailed();
    }
  }
}
