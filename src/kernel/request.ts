/**
 * What a request is once the wire format has been translated away, and how a feature declares
 * the Vault paths it serves (as data: pattern, operations, zod field schemas, response schema).
 * Features build `PathSpec`s; the HTTP layer routes by them and generates OpenAPI from them.
 */
import { z } from 'zod';
import type { FieldShape } from './fields.js';
import type { MountEntry, TokenEntry } from './entries.js';

/** Vault's logical operations; the HTTP layer maps verbs onto these in one place. */
export type Operation = 'read' | 'list' | 'create' | 'update' | 'patch' | 'delete';
/** `write` serves both create and update; the ACL capability is decided by an existence check. */
export type OperationKey = 'read' | 'list' | 'write' | 'patch' | 'delete';

/** A request after the wire format has been translated away. */
export interface LogicalRequest<D = Record<string, unknown>, P = Record<string, string>> {
  requestId: string;
  operation: Operation;
  /** Full logical path without the `/v1/` prefix and without a trailing slash. */
  path: string;
  /** Path relative to the mount. */
  mountPath: string;
  /** Whether the request path ended with `/` (lists force one). */
  trailingSlash: boolean;
  /** The pattern's parameters, decoded by the path's `params` schemas (raw strings without them). */
  params: P;
  /** Validated and coerced request fields. */
  data: D;
  /** The body or query data as received (before coercion), for handlers that need it (KV data). */
  raw: Record<string, unknown>;
  mount: MountEntry;
  /** The token that made the request, or null on unauthenticated paths. */
  token: TokenEntry | null;
  clientToken: string | null;
  headers: Record<string, string | string[] | undefined>;
  remoteAddress: string;
  /**
   * The request body as it arrives, unparsed and unread, on the paths that take a file rather
   * than JSON (snapshot restores, as in Vault); undefined elsewhere.
   */
  upload?: AsyncIterable<Uint8Array>;
}

/** What a handler returns; `undefined` means 204 No Content. */
export interface LogicalResponse {
  status?: number;
  data?: Record<string, unknown> | null;
  warnings?: string[];
  auth?: Record<string, unknown> | null;
  /** For raw (non-enveloped) endpoints: the body as is. */
  raw?: unknown;
  /** A text body sent as it is, not JSON-encoded (Prometheus' exposition format); `headers` name its content type. */
  text?: string;
  /** A binary body sent as it is produced (a snapshot); `headers` name its content type. */
  stream?: AsyncIterable<Uint8Array>;
  headers?: Record<string, string>;
  /** Overrides the envelope's mount_type (Vault uses "" on KV's 404-with-data). */
  mountType?: string;
  /** Answer `status` with an empty body (Vault's bare 404 for a KV PATCH of a missing secret). */
  empty?: boolean;
}

export interface OperationSpec<F extends FieldShape = FieldShape, P = Record<string, string>> {
  summary: string;
  operationId: string;
  fields?: F;
  /** Allow-list of what `data` may carry; keys not in it never leave the server. */
  response?: z.ZodType;
  handler: (req: LogicalRequest<{ [K in keyof F]: z.output<F[K]> | undefined }, P>) => Promise<LogicalResponse | void>;
}

/** The schema of one route parameter: the matched text in, the value handlers see out. */
export type ParamSchema = z.ZodType<string, string>;
export type ParamShape = Record<string, ParamSchema>;
/** The decoded parameters of a path with schemas `P`. */
export type Params<P extends ParamShape> = { [K in keyof P]: z.output<P[K]> };

/**
 * The schemas `param` makes, with the least length each asks for: a string that long is its
 * own decoded value. Every request decodes its path's parameters, so the pipeline checks these
 * two facts itself instead of running zod (`plainParamMinLength`). A schema derived from one
 * (`param.segment().regex(…)`) is a new object, not in here, and goes through zod.
 */
const plainParams = new WeakMap<ParamSchema, number>();

function plain<S extends ParamSchema>(schema: S, minLength: number): S {
  plainParams.set(schema, minLength);
  return schema;
}

/** For a schema made by `param` as it is: the least length it asks of a string. Undefined for any other schema. */
export function plainParamMinLength(schema: ParamSchema): number | undefined {
  return plainParams.get(schema);
}

/** Schemas for the three kinds of pattern parameter; a feature narrows them where Vault's path regex does. */
export const param = {
  /** `:name`: one non-empty segment. */
  segment: () => plain(z.string().min(1), 1),
  /** `:name+`: one or more segments. */
  rest: () => plain(z.string().min(1), 1),
  /** `:name*`: zero or more segments (may be empty). */
  optionalRest: () => plain(z.string(), 0),
};

/** One Vault path family, declared as data: the pattern, its operations and their schemas. */
export interface PathSpec {
  /**
   * Relative to the mount. Segments: literal, `:name` (one segment), `:name+` (one or more,
   * rest of path), `:name*` (zero or more, rest of path).
   */
  pattern: string;
  /**
   * Schemas of the pattern's parameters. A value that fails its schema matches no route
   * (Vault's 404 `unsupported path`, as when Vault's path regex does not match).
   */
  params?: ParamShape;
  /**
   * Parameters Vault normalises before it uses them (a policy name is trimmed and
   * lower-cased). The request's path is rebuilt from the normalised values before anything
   * looks at it, so the ACL check, the audit log and the handler all see the one name the
   * store uses: a deny on `sys/policies/acl/admin` also stops `ADMIN` and `admin%20`.
   */
  normalise?: Record<string, (value: string) => string>;
  operations: Partial<Record<OperationKey, OperationSpec<any, any>>>;
  /** Whether POST/PUT targets an existing item (update) or not (create), for ACLs. */
  exists?: (req: LogicalRequest<Record<string, unknown>, any>) => Promise<boolean>;
  /** Answerable without a token (health, seal status, OIDC discovery). */
  unauthenticated?: boolean;
  /** Needs a valid token but no ACL grant on the path: the handler decides (KV preflight). */
  aclExempt?: boolean;
  /** Answerable while sealed. */
  whileSealed?: boolean;
  /**
   * Vault's `sys/metrics` on a listener whose `telemetry` block sets
   * `unauthenticated_metrics_access`: there it is served by the listener itself — without a
   * token, while sealed too, and unaudited; elsewhere it is an ordinary authenticated path.
   */
  openOnMetricsListener?: boolean;
  /** Returns a bare JSON object instead of the envelope. */
  raw?: boolean;
  /** The content types of an answer sent as text rather than in the envelope (`sys/metrics`), for the OpenAPI document. */
  textContentTypes?: string[];
  /** Legacy "sys injector" path: data keys are copied to the top level too. */
  injector?: boolean;
  /**
   * The body is the payload itself (KV v1's secrets), so no field is "unrecognized": Vault's
   * `TakesArbitraryInput`, which spares these paths the unknown-parameter warning.
   */
  takesArbitraryInput?: boolean;
  /** Extra capability required besides the operation's (root-protected paths). */
  sudo?: boolean;
  /** Description for OpenAPI. */
  description?: string;
}

/** A secrets engine or built-in backend: what serves the paths under one mount. */
export interface Backend {
  /** The `mount_type` the envelope reports. */
  mountType: string;
  paths: PathSpec[];
  /**
   * An auth method's say on renewing a token one of its logins issued (Vault's renew callback):
   * throws its refusal when the user or role is gone or its policies changed since.
   */
  renewLogin?(mount: MountEntry, token: TokenEntry): Promise<void>;
}

/** The parameter names of a pattern: `oidc/key/:name/rotate` → `"name"`. */
type SegmentParam<S> = S extends `:${infer N}+` ? N : S extends `:${infer N}*` ? N : S extends `:${infer N}` ? N : never;
export type PatternParams<S extends string> = S extends `${infer Head}/${infer Rest}` ? SegmentParam<Head> | PatternParams<Rest> : SegmentParam<S>;

/** Builds an operation whose handler sees the path's decoded parameters. */
export type OperationBuilder<P> = <F extends FieldShape>(spec: OperationSpec<F, P>) => OperationSpec<F, P>;

/** A pattern with parameters must declare a schema for each of them; one without declares none. */
type ParamsOf<S extends string, P> = [PatternParams<S>] extends [never] ? { params?: undefined } : { params: P };

/** The same handler for every operation of a catch-all path, with operationIds `<prefix>-<operation>`. */
export function everyOperation<P>(
  op: OperationBuilder<P>,
  summary: string,
  operationIdPrefix: string,
  handler: OperationSpec<FieldShape, P>['handler'],
): Partial<Record<OperationKey, OperationSpec<any, P>>> {
  const operations: Partial<Record<OperationKey, OperationSpec<any, P>>> = {};
  for (const key of ['read', 'list', 'write', 'patch', 'delete'] as OperationKey[]) {
    operations[key] = op({ summary, operationId: `${operationIdPrefix}-${key}`, handler });
  }
  return operations;
}

/**
 * Declares one path family with typed parameters: `params` holds a zod schema for every
 * `:name` of `pattern` (the compiler checks the names), and `operations` receives a builder
 * whose handlers see `req.params` decoded by those schemas.
 */
export function definePath<const S extends string, P extends { [K in PatternParams<S>]: ParamSchema }>(
  spec: Omit<PathSpec, 'pattern' | 'params' | 'operations' | 'exists'> & {
    pattern: S;
    exists?: (req: LogicalRequest<Record<string, unknown>, Params<P>>) => Promise<boolean>;
    operations: (op: OperationBuilder<Params<P>>) => Partial<Record<OperationKey, OperationSpec<any, Params<P>>>>;
  } & ParamsOf<S, P>,
): PathSpec {
  return { ...spec, operations: spec.operations((operation) => operation) };
}

