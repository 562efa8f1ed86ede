/**
 * What a request is once the wire format has been translated away, and how a feature declares
 * the Vault paths it serves (as data: pattern, operations, zod field schemas, response schema).
 * Features build `PathSpec`s; the HTTP layer routes by them and generates OpenAPI from them.
 */
import type { z } from 'zod';
import type { FieldShape } from './fields.js';
import type { MountEntry, TokenEntry } from './entries.js';

/** Vault's logical operations; the HTTP layer maps verbs onto these in one place. */
export type Operation = 'read' | 'list' | 'create' | 'update' | 'patch' | 'delete';
/** `write` serves both create and update; the ACL capability is decided by an existence check. */
export type OperationKey = 'read' | 'list' | 'write' | 'patch' | 'delete';

/** A request after the wire format has been translated away. */
export interface LogicalRequest<D = Record<string, unknown>> {
  requestId: string;
  operation: Operation;
  /** Full logical path without the `/v1/` prefix and without a trailing slash. */
  path: string;
  /** Path relative to the mount. */
  mountPath: string;
  /** Whether the request path ended with `/` (lists force one). */
  trailingSlash: boolean;
  params: Record<string, string>;
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
}

/** What a handler returns; `undefined` means 204 No Content. */
export interface LogicalResponse {
  status?: number;
  data?: Record<string, unknown> | null;
  warnings?: string[];
  auth?: Record<string, unknown> | null;
  /** For raw (non-enveloped) endpoints: the body as is. */
  raw?: unknown;
  headers?: Record<string, string>;
  /** Overrides the envelope's mount_type (Vault uses "" on KV's 404-with-data). */
  mountType?: string;
  /** Answer `status` with an empty body (Vault's bare 404 for a KV PATCH of a missing secret). */
  empty?: boolean;
}

export interface OperationSpec<F extends FieldShape = FieldShape> {
  summary: string;
  operationId: string;
  fields?: F;
  /** Allow-list of what `data` may carry; keys not in it never leave the server. */
  response?: z.ZodType;
  handler: (req: LogicalRequest<{ [K in keyof F]: z.output<F[K]> | undefined }>) => Promise<LogicalResponse | void>;
}

/** One Vault path family, declared as data: the pattern, its operations and their schemas. */
export interface PathSpec {
  /**
   * Relative to the mount. Segments: literal, `:name` (one segment), `:name+` (one or more,
   * rest of path), `:name*` (zero or more, rest of path).
   */
  pattern: string;
  operations: Partial<Record<OperationKey, OperationSpec<any>>>;
  /** Whether POST/PUT targets an existing item (update) or not (create), for ACLs. */
  exists?: (req: LogicalRequest) => Promise<boolean>;
  /** Answerable without a token (health, seal status, OIDC discovery). */
  unauthenticated?: boolean;
  /** Needs a valid token but no ACL grant on the path: the handler decides (KV preflight). */
  aclExempt?: boolean;
  /** Answerable while sealed. */
  whileSealed?: boolean;
  /** Returns a bare JSON object instead of the envelope. */
  raw?: boolean;
  /** Legacy "sys injector" path: data keys are copied to the top level too. */
  injector?: boolean;
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
}

export const defineOperation = <F extends FieldShape>(spec: OperationSpec<F>): OperationSpec<F> => spec;

