/**
 * The wire layer: where Vault's HTTP conventions become a request in Vault's terms and a
 * handled request becomes bytes again. Request target parsing, verbs to operations, the list
 * forms, body parsing, the token and namespace headers on the way in; the envelope, raw and
 * empty bodies on the way out. What happens in between (routing, seal, token, ACL, audit,
 * validation) is the request pipeline's (`pipeline.ts`).
 */
import { envelope, envelopeHead, envelopeJson, envelopeTail } from '../kernel/envelope.js';
import { parseBool, parseDuration } from '../kernel/fields.js';
import type { MountEntry } from '../kernel/entries.js';
import type { LogicalResponse, Operation, PathSpec } from '../kernel/request.js';
import { methodNotAllowed, notFound } from '../kernel/errors.js';
import { requestErrors } from './errors.js';

/** A request as it came off the wire, before any Vault semantics. */
export interface WireRequest {
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer | undefined;
  remoteAddress: string;
  /** The unread body of a request to an upload path (the app routes those without parsing). */
  upload?: AsyncIterable<Uint8Array>;
}

/** A response ready for the wire: text, or bytes produced as they are sent. */
export interface WireResponse {
  status: number;
  headers: Readonly<Record<string, string>>;
  body: string | AsyncIterable<Uint8Array>;
}

/**
 * Paths whose POST/PUT body is a file, handed to the handler unread rather than parsed as JSON
 * (as Vault does for them), and not held to `max_request_size`: a snapshot can be larger.
 */
export const UPLOAD_PATHS = ['sys/storage/raft/snapshot', 'sys/storage/raft/snapshot-force'];

/** Frozen: a response without headers of its own carries this very object. */
export const JSON_HEADERS: Readonly<Record<string, string>> = Object.freeze({ 'content-type': 'application/json', 'cache-control': 'no-store' });

/** What `echoedHeaders` answers for a request without a namespace header (most): shared, frozen. */
const NO_ECHOED_HEADERS: Readonly<Record<string, string>> = Object.freeze({});

/** Header that the socket layer adds when it rewrote a `LIST` request line to `GET`. */
export const LIST_MARKER_HEADER = 'x-ferry-list-verb';

/** A request in Vault's terms: the logical path, the operation and its data, the caller's token. */
export interface ParsedRequest {
  /** The verb as Vault sees it: `LIST` for a rewritten list request, else the HTTP method. */
  method: string;
  /** Logical path without `/v1/`, duplicate and trailing slashes. */
  path: string;
  trailingSlash: boolean;
  operation: Operation;
  /** The body (writes) or the query (reads, lists, deletes), as received. */
  data: Record<string, unknown>;
  clientToken: string | null;
  headers: WireRequest['headers'];
  remoteAddress: string;
  upload?: AsyncIterable<Uint8Array>;
  /**
   * The mount and path declaration the pipeline routed the request to, set as soon as it is
   * routed, so that the request's metrics name its route even when it then fails.
   */
  mount: MountEntry | undefined;
  spec: PathSpec | undefined;
}

/** The outcome of the request pipeline, for the wire layer to render. */
export interface HandledRequest {
  requestId: string;
  /** Undefined: 204 No Content. */
  response: LogicalResponse | undefined;
  /** The response's data after the operation's allow-list. */
  data: Record<string, unknown> | null;
  warnings: string[];
  /** The envelope's `mount_type`. */
  mountType: string;
  /** Legacy "sys injector" path: data keys are copied to the top level too. */
  injector: boolean;
}

export function header(headers: WireRequest['headers'], name: string): string | undefined {
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

/** Headers every answer to this request carries, errors included: Vault echoes the namespace. */
export function echoedHeaders(headers: WireRequest['headers']): Readonly<Record<string, string>> {
  const namespace = header(headers, 'x-vault-namespace');
  return namespace === undefined ? NO_ECHOED_HEADERS : { 'x-vault-namespace': namespace };
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

/**
 * Query string or form body → request data; a repeated key becomes a list, as in Vault. One
 * pass over the pairs: `getAll` per key rescans every pair, which made a form body of n distinct
 * keys cost n² (10,000 keys held the event loop 1.5 s, before any token check).
 */
function queryData(params: URLSearchParams): Record<string, unknown> {
  const grouped = new Map<string, string[]>();
  for (const [key, value] of params) {
    const values = grouped.get(key);
    if (values) values.push(value);
    else grouped.set(key, [value]);
  }
  const out: Record<string, unknown> = {};
  for (const [key, values] of grouped) out[key] = values.length === 1 ? values[0] : values;
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
    throw requestErrors.badJson();
  }
  // `vault write -f` sends the literal `null`.
  if (parsed === null) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) throw requestErrors.badJson();
  return parsed as Record<string, unknown>;
}

/** `/v1/a//b/` → `a/b` with a trailing slash; percent-decoded segment by segment. */
function logicalPath(pathname: string): { path: string; trailingSlash: boolean } {
  if (!pathname.startsWith('/v1/')) throw notFound();
  let path = pathname.slice('/v1/'.length);
  // Most paths have nothing to decode or collapse; the work is skipped for them.
  if (path.includes('%')) {
    try {
      path = path
        .split('/')
        .map((s) => (s.includes('%') ? decodeURIComponent(s) : s))
        .join('/');
    } catch {
      throw requestErrors.badPercentEncoding();
    }
  }
  if (path.includes('//')) path = path.replace(/\/{2,}/g, '/');
  if (path.startsWith('/')) path = path.slice(1);
  const trailingSlash = path.endsWith('/');
  return { path: trailingSlash ? path.slice(0, -1) : path, trailingSlash };
}

const NAMESPACE_ROOT = new Set(['', '/', 'root', 'root/']);

/** The verb → operation table, with the list forms (`LIST`, `GET ?list=true`) and where the data comes from. */
function operationOf(method: string, search: string, wire: WireRequest): { operation: Operation; data: Record<string, unknown> } {
  const query = search === '' ? {} : queryData(new URLSearchParams(search));
  switch (method) {
    case 'GET':
    case 'HEAD': {
      let operation: Operation = 'read';
      if (query.list !== undefined) {
        const list = parseBool(Array.isArray(query.list) ? query.list[0] : query.list);
        if (list === undefined) throw requestErrors.invalidListFlag();
        if (list) operation = 'list';
      }
      delete query.list;
      return { operation, data: query };
    }
    case 'LIST':
      delete query.list;
      return { operation: 'list', data: query };
    case 'POST':
    case 'PUT':
      return { operation: 'update', data: parseBody(wire.body, header(wire.headers, 'content-type')) };
    case 'PATCH': {
      const ct = header(wire.headers, 'content-type') ?? '';
      if (ct.split(';')[0]!.trim().toLowerCase() !== 'application/merge-patch+json') throw requestErrors.patchContentType(ct);
      return { operation: 'patch', data: parseBody(wire.body, 'application/json') };
    }
    case 'DELETE':
      return { operation: 'delete', data: query };
    default:
      throw methodNotAllowed();
  }
}

/** A wrap TTL that does not parse gets Vault's 400; any positive one Ferry's (it does not wrap); empty or 0 means no wrapping. */
function refuseWrapping(wrapTtl: string | undefined): void {
  if (wrapTtl === undefined || wrapTtl.trim() === '') return;
  const seconds = parseDuration(wrapTtl.trim(), true);
  if (seconds === undefined) throw requestErrors.badWrapTtl(`time: invalid duration ${JSON.stringify(wrapTtl.trim())}`);
  if (seconds < 0) throw requestErrors.badWrapTtl('requested wrap ttl cannot be negative');
  if (seconds > 0) throw requestErrors.wrappingUnsupported();
}

/** Reads a wire request as Vault does; throws the coded error Vault answers a malformed one with. */
export function parseWireRequest(wire: WireRequest): ParsedRequest {
  const { pathname, search } = splitUrl(wire.url);
  const { path, trailingSlash } = logicalPath(pathname);
  const namespace = header(wire.headers, 'x-vault-namespace');
  if (namespace !== undefined && !NAMESPACE_ROOT.has(namespace.trim())) throw requestErrors.unknownNamespace(namespace);
  refuseWrapping(header(wire.headers, 'x-vault-wrap-ttl'));
  const method = (header(wire.headers, LIST_MARKER_HEADER) ? 'LIST' : wire.method).toUpperCase();
  const upload = wire.upload && UPLOAD_PATHS.includes(path) ? wire.upload : undefined;
  const { operation, data } = upload ? { operation: 'update' as const, data: {} } : operationOf(method, search, wire);
  delete data.help;
  return {
    method,
    path,
    trailingSlash,
    operation,
    data,
    clientToken: clientTokenOf(wire.headers),
    headers: wire.headers,
    remoteAddress: wire.remoteAddress,
    upload,
    mount: undefined,
    spec: undefined,
  };
}

/**
 * Frozen response data serialised, by the data object: its JSON, and the envelope's tail
 * around it (`envelopeTail`) for the common answer — no warnings, no auth — of one mount type.
 */
const frozenDataJson = new WeakMap<object, { json: string; mountType?: string; tail?: string }>();

/** A handled request as bytes: 204, an empty or raw body, or Vault's envelope. */
export function renderResponse(request: ParsedRequest, handled: HandledRequest, echoed: Readonly<Record<string, string>>): WireResponse {
  const res = handled.response;
  if (!res) return { status: 204, headers: { ...JSON_HEADERS, ...echoed }, body: '' };
  const status = res.status ?? 200;
  // The common answer (no namespace echoed, no headers of its own) copies nothing.
  const headers = echoed === NO_ECHOED_HEADERS && !res.headers ? JSON_HEADERS : { ...JSON_HEADERS, ...echoed, ...(res.headers ?? {}) };
  if (res.empty) return { status, headers, body: '' };
  if (res.stream) return { status, headers, body: res.stream };
  if (res.text !== undefined) return { status, headers, body: request.method === 'HEAD' ? '' : res.text };
  if (res.raw !== undefined) return { status, headers, body: request.method === 'HEAD' ? '' : JSON.stringify(res.raw) };
  if (handled.data && !handled.injector && Object.isFrozen(handled.data)) {
    // Data that never changes (see the pipeline's allow-list) is serialised once; so is the
    // rest of its common answer, and only the request id is new.
    let known = frozenDataJson.get(handled.data);
    if (known === undefined) {
      known = { json: JSON.stringify(handled.data) };
      frozenDataJson.set(handled.data, known);
    }
    if (handled.warnings.length > 0 || (res.auth !== undefined && res.auth !== null)) {
      return { status, headers, body: envelopeJson(handled.requestId, handled.mountType, known.json, { warnings: handled.warnings, auth: res.auth }) };
    }
    if (known.tail === undefined || known.mountType !== handled.mountType) {
      known.tail = envelopeTail(handled.mountType, known.json, {});
      known.mountType = handled.mountType;
    }
    return { status, headers, body: envelopeHead(handled.requestId) + known.tail };
  }
  const body = envelope(handled.requestId, handled.mountType, { data: handled.data, warnings: handled.warnings, auth: res.auth });
  return { status, headers, body: JSON.stringify(handled.injector && handled.data ? { ...handled.data, ...body } : body) };
}
