/**
 * The HTTP admin API, under one prefix (`/_emulator`). It mirrors the in-process helpers of
 * AwsEmulator one for one; bodies and answers are JSON. Routes are declared as data below.
 */
import { z } from 'zod';
import type { EmulatorCore } from './emulator.js';
import type { RequestLogQuery } from './log.js';

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

/** A policy document: a JSON string (as IAM takes it) or the object itself; iam-policy.ts validates it. */
const PolicyDocument = z.union([z.string(), z.record(z.string(), z.unknown())]);
const IdentityPolicies = {
  inlinePolicies: z.record(z.string(), PolicyDocument).optional(),
  attachedPolicyArns: z.array(z.string()).optional(),
};

const schemas = {
  provider: z.object({ accountId: z.string().optional(), url: z.string(), clientIds: z.array(z.string()) }),
  role: z.object({
    accountId: z.string().optional(),
    roleName: z.string(),
    trust: TrustSchema,
    maxSessionDuration: z.number().int().optional(),
    ...IdentityPolicies,
  }),
  user: z.object({
    accountId: z.string().optional(),
    userName: z.string(),
    accessKeys: z.array(z.object({ accessKeyId: z.string(), secretAccessKey: z.string().optional() })).optional(),
    ...IdentityPolicies,
  }),
  policy: z.object({ accountId: z.string().optional(), policyName: z.string(), document: PolicyDocument }),
  inlinePolicy: z.object({ principalArn: z.string(), policyName: z.string(), document: PolicyDocument }),
  inlinePolicyRef: z.object({ principalArn: z.string(), policyName: z.string() }),
  attachment: z.object({ principalArn: z.string(), policyArn: z.string() }),
  lags: z.object({ purgeLagMs: z.number().nonnegative().optional(), listingLagMs: z.number().nonnegative().optional() }).strict(),
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

const LOG_QUERY_PARAMS = ['service', 'operation', 'principalArn', 'decision', 'action', 'notAction', 'errorCode', 'since'];

/** `GET /requests?…`: RequestLogQuery from the query string (repeat a parameter for a list). */
function logQuery(query: URLSearchParams): RequestLogQuery {
  for (const name of query.keys()) {
    if (!LOG_QUERY_PARAMS.includes(name)) throw new Error(`unknown request-log filter ${name} (known: ${LOG_QUERY_PARAMS.join(', ')})`);
  }
  const out: RequestLogQuery = {};
  const service = query.get('service');
  if (service !== null) {
    if (service !== 'secretsmanager' && service !== 'sts') throw new Error('service must be secretsmanager or sts');
    out.service = service;
  }
  const decision = query.get('decision');
  if (decision !== null) {
    if (!['allowed', 'implicitDeny', 'explicitDeny', 'denied'].includes(decision)) {
      throw new Error('decision must be allowed, implicitDeny, explicitDeny or denied');
    }
    out.decision = decision as RequestLogQuery['decision'];
  }
  const principalArn = query.get('principalArn');
  if (principalArn !== null) out.principalArn = principalArn;
  for (const name of ['operation', 'action', 'notAction', 'errorCode'] as const) {
    const values = query.getAll(name);
    if (values.length > 0) out[name] = values;
  }
  const since = query.get('since');
  if (since !== null) {
    if (!/^\d+$/.test(since)) throw new Error('since must be a time in ms');
    out.since = Number(since);
  }
  return out;
}

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
    path: '/users',
    summary: 'register (or replace) an IAM user with its access keys and identity policies',
    handle: (core, { body }) => ({ status: 201, body: core.registerUser(schemas.user.parse(body)) }),
  },
  {
    method: 'POST',
    path: '/policies',
    summary: 'create (or replace the document of) a customer managed policy',
    handle: (core, { body }) => ({ status: 201, body: core.createPolicy(schemas.policy.parse(body)) }),
  },
  {
    method: 'PUT',
    path: '/inline-policies',
    summary: 'add or replace an inline policy of a user or role',
    handle: (core, { body }) => {
      const p = schemas.inlinePolicy.parse(body);
      core.putInlinePolicy(p.principalArn, p.policyName, p.document);
      return { status: 204 };
    },
  },
  {
    method: 'DELETE',
    path: '/inline-policies',
    summary: 'delete an inline policy of a user or role',
    handle: (core, { body }) => {
      const p = schemas.inlinePolicyRef.parse(body);
      core.deleteInlinePolicy(p.principalArn, p.policyName);
      return { status: 204 };
    },
  },
  {
    method: 'PUT',
    path: '/attached-policies',
    summary: 'attach a managed policy to a user or role',
    handle: (core, { body }) => {
      const a = schemas.attachment.parse(body);
      core.attachPolicy(a.principalArn, a.policyArn);
      return { status: 204 };
    },
  },
  {
    method: 'DELETE',
    path: '/attached-policies',
    summary: 'detach a managed policy from a user or role',
    handle: (core, { body }) => {
      const a = schemas.attachment.parse(body);
      core.detachPolicy(a.principalArn, a.policyArn);
      return { status: 204 };
    },
  },
  {
    method: 'GET',
    path: '/principal',
    summary: 'a user or role by ?arn=: its policies and whether it is unrestricted',
    handle: (core, { query }) => {
      const arn = query.get('arn');
      if (arn === null) return { status: 400, body: { error: 'arn query parameter is required' } };
      const principal = core.principal(arn);
      return principal === undefined ? { status: 404, body: { error: 'no such user or role' } } : { status: 200, body: principal };
    },
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
  {
    method: 'GET',
    path: '/requests',
    summary: 'the request log, filtered by ?service=&operation=&principalArn=&decision=&action=&notAction=&errorCode=&since=',
    handle: (core, { query }) => ({ status: 200, body: core.requestLog(logQuery(query)) }),
  },
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
  { method: 'GET', path: '/lags', summary: 'purge and listing lags (ms)', handle: (core) => ({ status: 200, body: core.lags() }) },
  {
    method: 'PUT',
    path: '/lags',
    summary: 'set the purge lag and/or the listing lag (ms)',
    handle: (core, { body }) => ({ status: 200, body: core.setLags(schemas.lags.parse(body)) }),
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
