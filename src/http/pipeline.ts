/**
 * The request pipeline: what every request passes through between the wire layer's parsing
 * and its rendering — the seal gate, routing to a mount, a backend and a path, the token
 * lookup, the ACL check, one audited exchange around validation and the handler, and the
 * allow-list of the operation's response schema.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { z } from 'zod';
import { addressAllowed } from '../kernel/cidr.js';
import type { Capability, MountEntry, TokenEntry } from '../kernel/entries.js';
import {
  FerryError,
  fieldValidation,
  internalError,
  methodNotAllowed,
  noHandler,
  permissionDenied,
  sealed,
  unsupportedOperation,
  unsupportedPath,
} from '../kernel/errors.js';
import { deepFreeze } from '../kernel/immutable.js';
import { plainParamMinLength, type LogicalRequest, type LogicalResponse, type OperationKey, type PathSpec } from '../kernel/request.js';
import type { AuditSink, Authorizer, BackendResolver, MountResolver, SealState, TokenResolver } from '../kernel/services.js';
import { statusOf } from './render-error.js';
import { matchPath, normaliseMatch } from './router.js';
import type { HandledRequest, ParsedRequest } from './wire.js';

/** The services a request passes through, wired in the composition root. */
export interface PipelineDeps {
  seal: SealState;
  mounts: MountResolver;
  backends: BackendResolver;
  tokens: TokenResolver;
  authorizer: Authorizer;
  audit: AuditSink;
  log: Logger;
  /** This listener's `telemetry { unauthenticated_metrics_access }`: `sys/metrics` needs no token on it. */
  unauthenticatedMetricsAccess?: boolean;
}

/** No fields, no names: shared, frozen. */
const NO_FIELDS: Record<string, z.ZodType> = Object.freeze({});
const NONE: readonly string[] = Object.freeze([]);

/** Allow-listed forms of frozen response data, by the data object (see `allowListed`). */
const allowListedOnce = new WeakMap<object, { schema: z.ZodType; data: Record<string, unknown> }>();

/** Stand-in for the `sys/` mount while sealed. */
const SYSTEM_MOUNT: MountEntry = {
  path: 'sys/',
  type: 'system',
  description: '',
  accessor: 'system_sealed',
  uuid: '',
  config: { default_lease_ttl: 0, max_lease_ttl: 0, force_no_cache: false },
  options: null,
  local: false,
  seal_wrap: false,
  external_entropy_access: false,
  plugin_version: '',
  created: 0,
};

export class RequestPipeline {
  constructor(private readonly deps: PipelineDeps) {}

  async run(request: ParsedRequest): Promise<HandledRequest> {
    const requestId = randomUUID();
    const { operation } = request;
    let path = request.path;
    const isSealed = this.deps.seal.status().sealed;
    // While sealed the mount table cannot be read (it lives behind the barrier); only the
    // system backend's seal, init and health paths answer.
    const mount = isSealed ? (path === 'sys' || path.startsWith('sys/') ? SYSTEM_MOUNT : undefined) : this.deps.mounts.resolve(path);
    if (!mount) throw isSealed ? sealed() : noHandler(path);
    const backend = this.deps.backends.backendFor(mount);
    if (!backend) throw unsupportedPath();
    let mountPath = path === mount.path.slice(0, -1) ? '' : path.slice(mount.path.length);
    const match = matchPath(backend.paths, mountPath);
    if (!match) throw unsupportedPath();
    const spec = match.spec;
    // Names Vault normalises (policy names) are normalised in the path itself, before the ACL
    // check reads it: the ACL must judge the name the handler will act on.
    const normalised = normaliseMatch(match);
    if (normalised) {
      match.params = normalised.params;
      mountPath = normalised.relative;
      path = mountPath === '' ? mount.path.slice(0, -1) : mount.path + mountPath;
    }
    request.mount = mount;
    request.spec = spec;
    // Served as the listener's own handler is in Vault: no token, no seal gate, no audit entry.
    const open = spec.openOnMetricsListener === true && this.deps.unauthenticatedMetricsAccess === true;
    if (isSealed && !spec.whileSealed && !open) throw sealed();

    const opSpec = spec.operations[operation === 'update' ? 'write' : (operation as OperationKey)];
    if (request.method === 'HEAD' && !spec.raw) throw methodNotAllowed();

    // While sealed the token store is behind the barrier: the paths that answer then are
    // unauthenticated and are served without looking the token up. A token in use is found
    // in memory, without the promise and turn of the lookup.
    const clientToken = isSealed || open ? null : request.clientToken;
    const found = clientToken ? (this.deps.tokens.cachedLookup?.(clientToken) ?? (await this.deps.tokens.lookup(clientToken))) : undefined;
    // A token bound to CIDR blocks (a login role's token_bound_cidrs) is no token outside them;
    // a login token whose auth method was disabled is none at all, even before its revocation ends.
    const usable =
      found !== undefined &&
      addressAllowed(found.bound_cidrs, request.remoteAddress) &&
      (found.mount_accessor === undefined || this.deps.mounts.hasAccessor(found.mount_accessor));
    const token: TokenEntry | null = usable ? found : null;

    const req: LogicalRequest<Record<string, unknown>, Record<string, unknown>> = {
      requestId,
      operation,
      path,
      mountPath,
      trailingSlash: request.trailingSlash,
      params: match.params,
      data: {},
      raw: request.data,
      mount,
      token,
      clientToken: request.clientToken,
      headers: request.headers,
      remoteAddress: request.remoteAddress,
      upload: request.upload,
    };
    // Parameters are decoded where Vault would notice a path its regex does not match: at the
    // existence check of a write, else with the fields.

    // Denied requests are audited too (request and response entries carrying the error).
    if (!spec.unauthenticated && !open && !token) await this.deny(req);
    if (!opSpec) throw unsupportedOperation();

    if (operation === 'update' && spec.exists) {
      decodeParams(req, spec, match.params);
      if (!(await spec.exists(req))) req.operation = 'create';
    }
    if (!spec.unauthenticated && !open && !spec.aclExempt && token) {
      const listed = req.operation === 'list' ? `${req.path}/` : req.path;
      const aclPath = listed === '/' ? '' : listed;
      // A token whose policies are compiled is judged without a promise and a turn.
      const caps = this.deps.authorizer.cachedCapabilities?.(token, aclPath) ?? (await this.deps.authorizer.capabilities(token, aclPath));
      if (!permits(caps, req.operation, spec.sudo === true)) await this.deny(req);
    }

    // Fields the operation does not declare: reported in a warning, never refused.
    const fields = opSpec.fields ?? NO_FIELDS;
    const unknown = spec.takesArbitraryInput ? NONE : unknownFields(fields, request.data);
    // Without an audit device (or on a path Vault does not audit) there is no exchange to record.
    const res =
      open || this.deps.audit.audits?.(req.path) === false
        ? await this.handle(req, spec, opSpec, fields, match.params, unknown)
        : await this.audited(req, () => this.handle(req, spec, opSpec, fields, match.params, unknown));

    const handled: HandledRequest = {
      requestId,
      response: res ?? undefined,
      data: res?.data ?? null,
      warnings: res?.warnings ? [...res.warnings] : [],
      mountType: res?.mountType ?? backend.mountType,
      injector: spec.injector === true,
    };
    if (!res || res.empty || res.raw !== undefined || res.stream) return handled;
    if (unknown.length > 0) handled.warnings.push(`Endpoint ignored these unrecognized parameters: [${[...unknown].sort().join(' ')}]`);
    if (handled.data && opSpec.response) handled.data = this.allowListed(spec, opSpec.response, handled.data);
    return handled;
  }

  /**
   * Validation and the handler: what the audited exchange surrounds. A method rather than a
   * closure made per request: under tsx every named closure also costs a property definition.
   */
  private async handle(
    req: LogicalRequest<Record<string, unknown>, Record<string, unknown>>,
    spec: PathSpec,
    opSpec: NonNullable<PathSpec['operations'][OperationKey]>,
    fields: Record<string, z.ZodType>,
    params: Record<string, string>,
    unknown: readonly string[],
  ): Promise<LogicalResponse | undefined> {
    decodeParams(req, spec, params);
    req.data = validate(fields, req.raw);
    // A limited-use token gets a use here or a 403: the use is spent atomically per token.
    const token = req.token;
    if (token && token.num_uses > 0) req.token = await this.deps.tokens.consumeUse(token);
    let out: LogicalResponse | void;
    try {
      out = await opSpec.handler(req);
    } finally {
      // The last use is revoked again once its request is done (as Vault's revocation-pending
      // token is): a child token created by that request would otherwise outlive it, unlimited.
      if (token && token.num_uses > 0 && req.token?.num_uses === 0) await this.deps.tokens.revokeUsedUp(req.token);
    }
    // Vault answers 200 with the unknown-parameter warning where it would otherwise answer 204.
    return out ?? (unknown.length > 0 ? { data: null } : undefined);
  }

  /**
   * The one audited exchange: the request entry is written before anything runs — if no audit
   * device can record it, this throws and `run` never starts — then the response entry with
   * the outcome, an error included.
   */
  private async audited<T extends LogicalResponse | void>(
    req: LogicalRequest<Record<string, unknown>, Record<string, unknown>>,
    run: () => Promise<T>,
    requestError?: string,
  ): Promise<T> {
    await this.deps.audit.logRequest(req, requestError);
    let res: T;
    try {
      res = await run();
    } catch (err) {
      const status = err instanceof FerryError ? statusOf(err) : 500;
      await this.deps.audit.logResponse(req, undefined, status, err instanceof Error ? err.message : String(err));
      throw err;
    }
    await this.deps.audit.logResponse(req, res ?? undefined, res ? (res.status ?? 200) : 204);
    return res;
  }

  /** Audits a refused request, then refuses it. */
  private deny(req: LogicalRequest<Record<string, unknown>, Record<string, unknown>>): Promise<never> {
    return this.audited<never>(
      req,
      async () => {
        throw permissionDenied();
      },
      'permission denied',
    );
  }


  /**
   * Only what the operation's response schema names leaves the server; a response that fails it
   * is a bug. Frozen data (deep-frozen by contract: it never changes, as a hot secret's read
   * answer) is checked once per schema, and its allow-listed form is frozen in turn, so the wire
   * layer serialises it once too.
   */
  private allowListed(spec: PathSpec, schema: z.ZodType, data: Record<string, unknown>): Record<string, unknown> {
    const frozen = Object.isFrozen(data);
    const known = frozen ? allowListedOnce.get(data) : undefined;
    if (known && known.schema === schema) return known.data;
    const checked = schema.safeParse(data);
    if (!checked.success) {
      this.deps.log.error({ path: spec.pattern, issues: checked.error.issues.map((i) => i.path.join('.')) }, 'response failed its schema');
      throw internalError(new Error(`response of ${spec.pattern} failed its schema`));
    }
    const out = checked.data as Record<string, unknown>;
    if (frozen) allowListedOnce.set(data, { schema, data: deepFreeze(out) });
    return out;
  }
}

/** Whether capabilities allow an operation (and sudo, where the path needs it). */
function permits(caps: Set<Capability>, operation: Capability, sudo: boolean): boolean {
  if (caps.has('deny') || !caps.has(operation)) return false;
  return !sudo || caps.has('sudo');
}

/**
 * Puts the matched parameters through the path's schemas once (`req.params` is the raw match
 * until then). A module function rather than a closure made per request: under tsx every named
 * closure also costs a property definition.
 */
function decodeParams(req: LogicalRequest<unknown, unknown>, spec: PathSpec, raw: Record<string, string>): void {
  if (req.params === raw) req.params = decodeParamsOf(spec, raw);
}

/** The matched parameters through the path's schemas; a value that fails one matches no route. */
function decodeParamsOf(spec: PathSpec, raw: Record<string, string>): Record<string, unknown> {
  if (!spec.params) return raw;
  const out: Record<string, unknown> = { ...raw };
  for (const name in spec.params) {
    const schema = spec.params[name]!;
    const value = raw[name];
    // A schema `param` made as it is asks only for a string of some length, and answers it as
    // it is: what zod would decide, without zod.
    const minLength = plainParamMinLength(schema);
    if (minLength !== undefined && typeof value === 'string' && value.length >= minLength) continue;
    const parsed = schema.safeParse(value);
    if (!parsed.success) throw unsupportedPath();
    out[name] = parsed.data;
  }
  return out;
}

/** Decodes the declared fields (Vault's weak typing); undeclared ones are left out (`unknownFields` reports them). */
function validate(fields: Record<string, z.ZodType>, data: Record<string, unknown>): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  // `for…in` over a declaration's own plain object: its fields in order, without an entries array per request.
  for (const name in fields) {
    const input = data[name];
    if (input === undefined || input === null) continue;
    const schema = fields[name]!;
    const parsed = schema.safeParse(input);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const reason = issue?.code === 'custom' ? issue.message : `expected ${describeExpected(schema)}`;
      throw fieldValidation(name, reason);
    }
    values[name] = parsed.data;
  }
  return values;
}

/** The request's fields that the operation does not declare (most requests: none, and nothing is allocated). */
function unknownFields(fields: Record<string, z.ZodType>, data: Record<string, unknown>): readonly string[] {
  let unknown: string[] | undefined;
  for (const name of Object.keys(data)) {
    if (!(name in fields)) (unknown ??= []).push(name);
  }
  return unknown ?? NONE;
}

function describeExpected(schema: z.ZodType): string {
  const def = (schema as unknown as { def?: { type?: string } }).def;
  return def?.type === 'record' ? 'a JSON object' : 'a value of the right type';
}
