/**
 * The HTTP admin API, under one prefix (`/_emulator`). It mirrors the in-process helpers of
 * AwsEmulator one for one; bodies and answers are JSON. Routes are declared as data below.
 */
import { z } from 'zod';
import type { EmulatorCore } from './emulator.js';

export const ADMIN_PREFIX = '/_emulator';

export interface AdminReply {
  status: number;
  body?: unknown;
}

const TrustSchema = z.object({
  provider: z.string().optional(),
  sub: z.union([z.string(), z.array(z.string())]).optional(),
  aud: z.string().optional(),
  externalId: z.string().optional(),
  principalAccount: z.string().optional(),
});

const schemas = {
  provider: z.object({ accountId: z.string().optional(), url: z.string(), clientIds: z.array(z.string()) }),
  role: z.object({
    accountId: z.string().optional(),
    roleName: z.string(),
    trust: TrustSchema,
    maxSessionDuration: z.number().int().optional(),
  }),
  accessKey: z.object({ accessKeyId: z.string(), secretAccessKey: z.string(), accountId: z.string() }),
  fault: z.object({
    kind: z.enum(['500', 'throttle', 'latency', 'reset', 'refuse']),
    count: z.number().int().positive().optional(),
    untilMs: z.number().optional(),
    latencyMs: z.number().nonnegative().optional(),
    operation: z.string().optional(),
    applyBeforeReset: z.boolean().optional(),
  }),
  quota: z.object({ perSecond: z.number().positive() }),
  clock: z.object({ advanceMs: z.number() }),
};

interface Route {
  method: string;
  /** Path under the prefix; `:name` captures one segment. */
  path: string;
  summary: string;
  handle(core: EmulatorCore, args: { params: Record<string, string>; query: URLSearchParams; body: unknown }): AdminReply;
}

const ROUTES: Route[] = [
  { method: 'GET', path: '/health', summary: 'liveness', handle: () => ({ status: 200, body: { status: 'ok' } }) },
  {
    method: 'POST',
    path: '/oidc-providers',
    summary: 'register (or replace) an IAM OIDC provider',
    handle: (core, { body }) => ({ status: 201, body: core.registerOidcProvider(schemas.provider.parse(body)) }),
  },
  {
    method: 'POST',
    path: '/roles',
    summary: 'register (or replace) a role with its trust conditions',
    handle: (core, { body }) => ({ status: 201, body: core.registerRole(schemas.role.parse(body)) }),
  },
  {
    method: 'POST',
    path: '/access-keys',
    summary: 'map a long-term AKIA key to an account and secret',
    handle: (core, { body }) => {
      const k = schemas.accessKey.parse(body);
      core.mapAccessKey(k.accessKeyId, k.secretAccessKey, k.accountId);
      return { status: 204 };
    },
  },
  {
    method: 'POST',
    path: '/faults',
    summary: 'inject a fault',
    handle: (core, { body }) => {
      core.injectFault(schemas.fault.parse(body));
      return { status: 204 };
    },
  },
  { method: 'GET', path: '/faults', summary: 'active faults', handle: (core) => ({ status: 200, body: core.faults.list() }) },
  {
    method: 'DELETE',
    path: '/faults',
    summary: 'clear all faults',
    handle: (core) => {
      core.clearFaults();
      return { status: 204 };
    },
  },
  { method: 'GET', path: '/requests', summary: 'the request log', handle: (core) => ({ status: 200, body: core.requestLog() }) },
  {
    method: 'DELETE',
    path: '/requests',
    summary: 'clear the request log',
    handle: (core) => {
      core.clearRequestLog();
      return { status: 204 };
    },
  },
  {
    method: 'GET',
    path: '/secrets',
    summary: 'names of the secrets of ?region=&accountId=',
    handle: (core, { query }) => {
      const region = query.get('region');
      if (region === null) return { status: 400, body: { error: 'region query parameter is required' } };
      return { status: 200, body: { names: core.listSecretNames(region, query.get('accountId') ?? undefined) } };
    },
  },
  {
    method: 'GET',
    path: '/secret',
    summary: 'one secret (state snapshot) by ?region=&name=&accountId=',
    handle: (core, { query }) => {
      const region = query.get('region');
      const name = query.get('name');
      if (region === null || name === null) return { status: 400, body: { error: 'region and name query parameters are required' } };
      const secret = core.getSecret(region, name, query.get('accountId') ?? undefined);
      return secret === undefined ? { status: 404, body: { error: 'no such secret' } } : { status: 200, body: secret };
    },
  },
  { method: 'GET', path: '/quotas', summary: 'quota rates by class', handle: (core) => ({ status: 200, body: core.quotas.snapshot() }) },
  {
    method: 'PUT',
    path: '/quotas/:class',
    summary: 'set the rate of a quota class (or of the class of an operation)',
    handle: (core, { params, body }) => {
      core.setQuota(params.class, schemas.quota.parse(body).perSecond);
      return { status: 204 };
    },
  },
  { method: 'GET', path: '/clock', summary: 'emulator time', handle: (core) => ({ status: 200, body: { now: core.now() } }) },
  {
    method: 'POST',
    path: '/clock',
    summary: 'move emulator time forward (or back) by advanceMs',
    handle: (core, { body }) => ({ status: 200, body: { now: core.advanceClock(schemas.clock.parse(body).advanceMs) } }),
  },
];

function match(pattern: string, path: string): Record<string, string> | undefined {
  const p = pattern.split('/');
  const a = path.split('/');
  if (p.length !== a.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < p.length; i++) {
    if (p[i].startsWith(':')) params[p[i].slice(1)] = decodeURIComponent(a[i]);
    else if (p[i] !== a[i]) return undefined;
  }
  return params;
}

/** Handles a request whose path starts with ADMIN_PREFIX. */
export function handleAdmin(core: EmulatorCore, method: string, url: string, rawBody: Buffer): AdminReply {
  const parsed = new URL(url, 'http://emulator');
  const path = parsed.pathname.slice(ADMIN_PREFIX.length) || '/';
  let body: unknown = undefined;
  if (rawBody.length > 0) {
    try {
      body = JSON.parse(rawBody.toString('utf8'));
    } catch {
      return { status: 400, body: { error: 'body is not valid JSON' } };
    }
  }
  const candidates = ROUTES.map((r) => ({ r, params: match(r.path, path) })).filter((c) => c.params !== undefined);
  if (candidates.length === 0) {
    return { status: 404, body: { error: `no admin route ${path}`, routes: ROUTES.map((r) => `${r.method} ${ADMIN_PREFIX}${r.path}`) } };
  }
  const hit = candidates.find((c) => c.r.method === method);
  if (hit === undefined) return { status: 405, body: { error: `${method} not allowed on ${path}` } };
  try {
    return hit.r.handle(core, { params: hit.params!, query: parsed.searchParams, body });
  } catch (e) {
    if (e instanceof z.ZodError) return { status: 400, body: { error: 'invalid body', issues: e.issues } };
    return { status: 400, body: { error: (e as Error).message } };
  }
}
