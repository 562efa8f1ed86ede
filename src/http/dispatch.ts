import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Capability, TokenEntry, MountEntry } from '../kernel/entries.js';
import type { Logger } from 'pino';
import type { Authorizer, AuditSink, BackendResolver, MountResolver, SealState, TokenResolver } from '../kernel/services.js';
import { FerryError, badRequest, internalError, methodNotAllowed, notFound, fieldValidation, noHandler, permissionDenied, sealed, unsupportedOperation, unsupportedPath } from '../kernel/errors.js';
import { parseBool } from '../kernel/fields.js';
import { matchPath } from './router.js';
import type { LogicalRequest, LogicalResponse, Operation, OperationKey } from '../kernel/request.js';
import { envelope } from '../kernel/envelope.js';
import { JSON_HEADERS, renderFailure, statusOf, type WireRequest, type WireResponse } from './render-error.js';

/** Header that the socket layer adds when it rewrote a `LIST` request line to `GET`. */
export const LIST_MARKER_HEADER = 'x-ferry-list-verb';

function header(headers: WireRequest['headers'], name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** The client token: `X-Vault-Token` wins over `Authorization: Bearer`. */
export function clientTokenOf(headers: WireRequest['headers']): string | null {
  const direct = header(headers, 'x-vault-token');
  if (direct) return direct.trim();
  const authz = header(headers, 'authorization');
  if (authz && authz.startsWith('Bearer ')) {
    const t = authz.slice('Bearer '.length).trim();
    return t === '' ? null : t;
  }
  return null;
}

/**
 * Path and query of a request target. The WHATWG URL parser is only needed (and only used)
 * for targets with dot segments, which it resolves; every other target is split as is.
 */
function splitUrl(target: string): { pathname: string; search: string } {
  const q = target.indexOf('?');
  const pathname = q === -1 ? target : target.slice(0, q);
  if (/(^|\/)\.\.?(\/|$)/.test(pathname) || /%2e/i.test(pathname) || !pathname.startsWith('/')) {
    const url = new URL(target, 'http://ferry.invalid');
    return { pathname: url.pathname, search: url.search };
  }
  return { pathname, search: q === -1 ? '' : target.slice(q + 1) };
}

/** Query string → request data; a repeated key becomes a list, as in Vault. */
function queryData(params: URLSearchParams): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of new Set(params.keys())) {
    const all = params.getAll(key);
    out[key] = all.length === 1 ? all[0] : all;
  }
  return out;
}

function parseBody(body: Buffer | undefined, contentType: string | undefined): Record<string, unknown> {
  if (!body || body.length === 0) return {};
  const text = body.toString('utf8');
  const first = text.trimStart()[0];
  if (contentType?.startsWith('application/x-www-form-urlencoded') && first !== '{' && first !== '[') {
    return queryData(new URLSearchParams(text));
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw badRequest('error parsing JSON');
  }
  // `vault write -f` sends the literal `null`.
  if (parsed === null) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) throw badRequest('error parsing JSON');
  return parsed as Record<string, unknown>;
}

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

const NAMESPACE_ROOT = new Set(['', '/', 'root', 'root/']);

/**
 * The one place where Vault's HTTP conventions become logical requests: verbs to
 * operations, list forms, token headers, body parsing and coercion, mount routing,
 * seal and ACL checks, and the envelope on the way out.
 */
/** The services a request passes through, wired in the composition root. */
export interface DispatcherDeps {
  seal: SealState;
  mounts: MountResolver;
  backends: BackendResolver;
  tokens: TokenResolver;
  authorizer: Authorizer;
  audit: AuditSink;
  log: Logger;
}

export class Dispatcher {
  constructor(private readonly core: DispatcherDeps) {}

  async handle(wire: WireRequest): Promise<WireResponse> {
    const extraHeaders: Record<string, string> = {};
    const namespace = header(wire.headers, 'x-vault-namespace');
    if (namespace !== undefined) extraHeaders['x-vault-namespace'] = namespace;
    try {
      return await this.handleInner(wire, extraHeaders);
    } catch (err) {
      return renderFailure(err, this.core.log, extraHeaders);
    }
  }

  private async handleInner(wire: WireRequest, extraHeaders: Record<string, string>): Promise<WireResponse> {
    const requestId = randomUUID();
    const { pathname, search } = splitUrl(wire.url);
    if (!pathname.startsWith('/v1/')) throw notFound();
    let path: string;
    try {
      path = pathname
        .slice('/v1/'.length)
        .split('/')
        .map((s) => (s.includes('%') ? decodeURIComponent(s) : s))
        .join('/');
    } catch {
      throw badRequest('invalid percent-encoding in path');
    }
    path = path.replace(/\/{2,}/g, '/').replace(/^\//, '');
    const trailingSlash = path.endsWith('/');
    if (trailingSlash) path = path.slice(0, -1);

    const namespace = extraHeaders['x-vault-namespace'];
    if (namespace !== undefined && !NAMESPACE_ROOT.has(namespace.trim())) {
      throw badRequest(
        `namespace "${namespace}" does not exist: Ferry serves only the root namespace (X-Vault-Namespace must be empty or "root")`,
      );
    }

    const method = (header(wire.headers, LIST_MARKER_HEADER) ? 'LIST' : wire.method).toUpperCase();
    const query = queryData(new URLSearchParams(search));
    let operation: Operation;
    let data: Record<string, unknown>;
    switch (method) {
      case 'GET':
      case 'HEAD': {
        operation = 'read';
        if (query.list !== undefined) {
          const list = parseBool(Array.isArray(query.list) ? query.list[0] : query.list);
          if (list === undefined) throw new FerryError('request.invalid_list_flag', 'invalid', []);
          if (list) operation = 'list';
        }
        delete query.list;
        data = query;
        break;
      }
      case 'LIST':
        operation = 'list';
        delete query.list;
        data = query;
        break;
      case 'POST':
      case 'PUT':
        operation = 'update';
        data = parseBody(wire.body, header(wire.headers, 'content-type'));
        break;
      case 'PATCH': {
        const ct = header(wire.headers, 'content-type') ?? '';
        if (ct.split(';')[0]!.trim().toLowerCase() !== 'application/merge-patch+json') {
          throw new FerryError('request.patch_content_type', 'unsupported_media_type', [`PATCH requires Content-Type of application/merge-patch+json, provided ${ct}`]);
        }
        operation = 'patch';
        data = parseBody(wire.body, 'application/json');
        break;
      }
      case 'DELETE':
        operation = 'delete';
        data = query;
        break;
      default:
        throw methodNotAllowed();
    }
    delete data.help;

    const isSealed = this.core.seal.status().sealed;
    // While sealed the mount table cannot be read (it lives behind the barrier); only the
    // system backend's seal, init and health paths answer.
    const mount = isSealed ? (path === 'sys' || path.startsWith('sys/') ? SYSTEM_MOUNT : undefined) : this.core.mounts.resolve(path);
    if (!mount) throw isSealed ? sealed() : noHandler(path);
    const backend = this.core.backends.backendFor(mount);
    if (!backend) throw unsupportedPath();
    const mountBase = mount.path.slice(0, -1);
    const mountPath = path === mountBase ? '' : path.slice(mount.path.length);
    const match = matchPath(backend.paths, mountPath);
    if (!match) throw unsupportedPath();
    const spec = match.spec;

    if (isSealed && !spec.whileSealed) throw sealed();

    const opKey: OperationKey = operation === 'update' ? 'write' : (operation as OperationKey);
    const opSpec = spec.operations[opKey];
    if (method === 'HEAD' && !spec.raw) throw methodNotAllowed();

    const clientToken = clientTokenOf(wire.headers);
    // While sealed the token store is behind the barrier: the paths that answer then are
    // unauthenticated and are served without looking the token up.
    const token: TokenEntry | null = clientToken && !isSealed ? ((await this.core.tokens.lookup(clientToken)) ?? null) : null;

    const req: LogicalRequest = {
      requestId,
      operation,
      path,
      mountPath,
      trailingSlash,
      params: match.params,
      data: {},
      raw: data,
      mount,
      token,
      clientToken,
      headers: wire.headers,
      remoteAddress: wire.remoteAddress,
    };

    // Denied requests are audited too (request and response entries carrying the error).
    if (!spec.unauthenticated && !token) await this.deny(req);
    if (!opSpec) throw unsupportedOperation();

    if (operation === 'update' && spec.exists && !(await spec.exists(req))) req.operation = 'create';
    if (!spec.unauthenticated && !spec.aclExempt && token && !(await this.allowed(token, req, spec.sudo === true))) {
      await this.deny(req);
    }

    // The request entry is written before anything else happens: if no audit device can
    // record it, this throws and the handler never runs.
    await this.core.audit.logRequest(req);
    let validated: { values: Record<string, unknown>; unknown: string[] };
    try {
      validated = this.validate(opSpec.fields ?? {}, data);
    } catch (err) {
      await this.core.audit.logResponse(req, undefined, err instanceof FerryError ? statusOf(err) : 500, err instanceof Error ? err.message : String(err));
      throw err;
    }
    const { values, unknown } = validated;
    req.data = values;
    if (token && token.num_uses > 0) await this.core.tokens.consumeUse(token);

    let res: LogicalResponse | void;
    try {
      res = await opSpec.handler(req);
    } catch (err) {
      const status = err instanceof FerryError ? statusOf(err) : 500;
      await this.core.audit.logResponse(req, undefined, status, err instanceof Error ? err.message : String(err));
      throw err;
    }

    if (!res) {
      await this.core.audit.logResponse(req, undefined, 204);
      return { status: 204, headers: { ...JSON_HEADERS, ...extraHeaders }, body: '' };
    }
    const status = res.status ?? 200;
    await this.core.audit.logResponse(req, res, status);
    const headers = { ...JSON_HEADERS, ...extraHeaders, ...(res.headers ?? {}) };
    if (res.empty) return { status, headers, body: '' };
    if (res.raw !== undefined) {
      return { status, headers, body: method === 'HEAD' ? '' : JSON.stringify(res.raw) };
    }
    const warnings = [...(res.warnings ?? [])];
    if (unknown.length > 0) {
      warnings.push(`Endpoint ignored these unrecognized parameters: [${unknown.sort().join(' ')}]`);
    }
    let outData = res.data ?? null;
    if (outData && opSpec.response) {
      const checked = opSpec.response.safeParse(outData);
      if (!checked.success) {
        this.core.log.error({ path: spec.pattern, issues: checked.error.issues.map((i) => i.path.join('.')) }, 'response failed its schema');
        throw internalError(new Error(`response of ${spec.pattern} failed its schema`));
      }
      outData = checked.data as Record<string, unknown>;
    }
    const body = envelope(requestId, res.mountType ?? backend.mountType, { data: outData, warnings, auth: res.auth });
    const finalBody = spec.injector && outData ? { ...outData, ...body } : body;
    return { status, headers, body: JSON.stringify(finalBody) };
  }

  private validate(
    fields: Record<string, z.ZodType>,
    data: Record<string, unknown>,
  ): { values: Record<string, unknown>; unknown: string[] } {
    const values: Record<string, unknown> = {};
    for (const [name, schema] of Object.entries(fields)) {
      const input = data[name];
      if (input === undefined || input === null) continue;
      const parsed = schema.safeParse(input);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        const reason = issue?.code === 'custom' ? issue.message : `expected ${describeExpected(schema)}`;
        throw fieldValidation(name, input, reason);
      }
      values[name] = parsed.data;
    }
    const unknown = Object.keys(data).filter((k) => !(k in fields));
    return { values, unknown };
  }

  private async allowed(token: TokenEntry, req: LogicalRequest, sudo: boolean): Promise<boolean> {
    const aclPath = req.operation === 'list' ? `${req.path}/` : req.path;
    const caps = await this.core.authorizer.capabilities(token, aclPath === '/' ? '' : aclPath);
    if (caps.has('deny')) return false;
    const needed: Capability = req.operation;
    if (!caps.has(needed)) return false;
    return !sudo || caps.has('sudo');
  }

  /** Audits a refused request, then refuses it. */
  private async deny(req: LogicalRequest): Promise<never> {
    const denied = permissionDenied();
    await this.core.audit.logRequest(req, 'permission denied');
    await this.core.audit.logResponse(req, undefined, statusOf(denied), 'permission denied');
    throw denied;
  }
}

function describeExpected(schema: z.ZodType): string {
  const def = (schema as unknown as { def?: { type?: string } }).def;
  return def?.type === 'record' ? 'a JSON object' : 'a value of the right type';
}
