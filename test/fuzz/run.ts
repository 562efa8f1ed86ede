import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { expect } from 'vitest';
import { requestArb, type BodySpec, type RequestSpec } from './arbitraries.js';
import { FuzzFixture } from './fixture.js';
import { loadRoutes, type FuzzRoute } from './routes.js';

/**
 * The API fuzz: for one OpenAPI route, generated requests (methods, path parameters, query
 * strings, headers, tokens, bodies — malformed JSON, deep nesting, huge strings, wrong types,
 * odd encodings) sent through the app with a root token, a limited token, none or a bogus one.
 * Every answer must be a Vault-style answer below 500 (sys/health's caller-chosen codes aside),
 * in JSON, with an `errors` list when it refuses; a refused request must leave the store's
 * logical contents exactly as they were; and nothing may crash the process.
 *
 * `FUZZ_REQUESTS` (default 10,500) is the total over all routes; `FUZZ_SEED` fixes the seeds
 * (a number; default a fixed one, so CI runs are repeatable; `random` for a fresh one).
 * `npm run test:fuzz` is the long run: 200,000 requests under a seed taken from the clock.
 */
export const TOTAL_REQUESTS = Number(process.env.FUZZ_REQUESTS ?? 10_500);
const BASE_SEED = process.env.FUZZ_SEED === 'random' ? Math.floor(Math.random() * 2 ** 31) : Number(process.env.FUZZ_SEED ?? 1_515_015);

// Printed so that a failing run can be replayed with the same seed (FUZZ_SEED=<seed>).
if (process.env.FUZZ_SEED !== undefined) process.stdout.write(`API fuzz: FUZZ_SEED=${BASE_SEED}, FUZZ_REQUESTS=${TOTAL_REQUESTS}\n`);

export const ROUTES = loadRoutes();
export const RUNS_PER_ROUTE = Math.ceil(TOTAL_REQUESTS / ROUTES.length);

/** Requests sent, by route key: what the shard files add up and assert on. */
export const executed = new Map<string, number>();

/** One seed per route, derived from the base seed and the route, so a failure replays on its own. */
function seedFor(route: FuzzRoute): number {
  return createHash('sha256').update(`${BASE_SEED}:${route.key}`).digest().readUInt32BE(0) & 0x7fffffff;
}

function bodyBytes(body: BodySpec): Buffer | undefined {
  const json = (v: unknown) => JSON.stringify(v) ?? 'null';
  switch (body.kind) {
    case 'none':
      return undefined;
    case 'json':
      return Buffer.from(json(body.value));
    case 'malformed': {
      const text = json(body.value);
      return Buffer.from(text.slice(0, Math.floor(text.length * body.at)) + body.garbage);
    }
    case 'deep':
      return Buffer.from(`{"${body.field}":${body.open.repeat(body.depth)}1${(body.open === '[' ? ']' : '}').repeat(body.depth)}}`);
    case 'huge-string':
      return Buffer.from(`{"${body.field}":"${'x'.repeat(body.length)}"}`);
    case 'many-keys': {
      const parts = new Array<string>(body.count);
      for (let i = 0; i < body.count; i++) parts[i] = `"k${i}":${i}`;
      return Buffer.from(`{"${body.field}":{${parts.join(',')}}}`);
    }
    case 'form':
      return Buffer.from(new URLSearchParams(body.pairs).toString());
    case 'bytes':
      return Buffer.from(body.bytes);
    case 'encoded': {
      const text = json(body.value);
      if (body.encoding === 'bom') return Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)]);
      if (body.encoding === 'invalid-utf8') return Buffer.concat([Buffer.from(text.slice(0, -1)), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from(text.slice(-1))]);
      return Buffer.from(text, body.encoding);
    }
  }
}

function urlOf(route: FuzzRoute, spec: RequestSpec): string {
  const path = route.template.replace(/\{([^}]+)\}/g, (_, name: string) => spec.params[name] ?? 'x');
  const query = spec.query.map(([k, v]) => `${k}=${v}`).join('&');
  return `/v1${path}${query ? `?${query}` : ''}`;
}

function headersOf(fixture: FuzzFixture, spec: RequestSpec): Record<string, string> {
  const headers: Record<string, string> = { ...spec.headers };
  const token =
    spec.token === 'root' ? fixture.t.rootToken : spec.token === 'limited' ? fixture.limitedToken : spec.token === 'none' ? undefined : spec.token.bogus;
  if (token !== undefined) {
    if (spec.bearer) headers.authorization = `Bearer ${token}`;
    else headers['x-vault-token'] = token;
  }
  return headers;
}

/** What a route's answer must be, whatever was asked. */
function checkAnswer(route: FuzzRoute, spec: RequestSpec, status: number, body: string, contentType: string | undefined): void {
  // sys/health answers with the status code the caller asks for (Vault's load-balancer codes).
  const asked = new URLSearchParams(spec.query.map(([k, v]) => `${k}=${v}`).join('&'));
  const askedFor = route.template === '/sys/health' ? [...asked].filter(([k]) => k.endsWith('code')).map(([, v]) => Number(v)) : [];
  if (!askedFor.includes(status)) expect(status, 'a 5xx answer').toBeLessThan(500);
  expect(status).toBeGreaterThanOrEqual(200);
  if (body === '') return;
  // A download (sys/storage/raft/snapshot's gzip) is the one answer that is not JSON.
  if (status < 300 && contentType !== undefined && !contentType.startsWith('application/json')) return;
  // sys/metrics refuses an unknown format, or Prometheus while it is off, as Vault does: a 400 in text/plain.
  if (route.template === '/sys/metrics' && status === 400 && contentType?.startsWith('text/plain')) {
    expect(body).toMatch(/^(metric response format ".*" unknown|prometheus is not enabled)$/s);
    return;
  }
  expect(contentType).toBe('application/json');
  const parsed = JSON.parse(body) as { errors?: unknown; request_id?: unknown };
  if (status >= 400 && !askedFor.includes(status)) {
    // Vault's error body, or (KV's 404 for a path outside its API, a read of a deleted version) its envelope.
    const envelope = typeof parsed.request_id === 'string';
    expect(envelope || Array.isArray(parsed.errors), `a ${status} that is neither an errors list nor an envelope: ${body.slice(0, 200)}`).toBe(true);
    for (const e of Array.isArray(parsed.errors) ? parsed.errors : []) expect(typeof e).toBe('string');
  }
}

/** Runs the fuzz for one route on a fixture of its own; returns how many requests were sent. */
export async function fuzzRoute(route: FuzzRoute, runs = RUNS_PER_ROUTE): Promise<number> {
  let fixture = await FuzzFixture.start(route);
  let sent = 0;
  try {
    const known = () => ({ tokens: [fixture.limitedToken, 'root'], accessors: [fixture.limitedAccessor, fixture.rootAccessor] });
    // The arbitraries take the known values once; tokens renewed by a repair are found by role at send time.
    const property = fc.asyncProperty(requestArb(route, known()), async (spec) => {
      const before = await fixture.contents();
      const payload = bodyBytes(spec.body);
      const url = urlOf(route, spec);
      let res;
      try {
        res = await fixture.t.app.inject({ method: spec.method as 'GET', url, headers: headersOf(fixture, spec), payload });
      } catch {
        // Refused by the injector itself (a URL or header it cannot express): nothing reached the server.
        return;
      }
      sent++;
      executed.set(route.key, (executed.get(route.key) ?? 0) + 1);
      const ct = res.headers['content-type'];
      const context = `${spec.method} ${url.slice(0, 300)} → ${res.statusCode} ${res.body.slice(0, 300)}`;
      try {
        checkAnswer(route, spec, res.statusCode, res.body, typeof ct === 'string' ? ct : undefined);
      } catch (err) {
        throw new Error(`${context}\n${(err as Error).message}`, { cause: err });
      }
      if (res.statusCode >= 400 && res.statusCode < 500) {
        // Read afresh (this becomes the next request's "before").
        fixture.changed();
        const after = await fixture.contents();
        if (after !== before) throw new Error(`${context}\na refused request changed the store:\n${storeDiff(before, after)}`);
      } else {
        fixture.changed();
        if ((await fixture.repair()) === 'replace') {
          await fixture.close();
          fixture = await FuzzFixture.start(route);
        }
      }
    });
    await fc.assert(property, { numRuns: runs, seed: seedFor(route), endOnFailure: true });
  } finally {
    await fixture.close();
  }
  return sent;
}

function storeDiff(before: string, after: string): string {
  const a = JSON.parse(before) as Record<string, unknown>;
  const b = JSON.parse(after) as Record<string, unknown>;
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k]));
  return keys.map((k) => `  ${k}: ${JSON.stringify(a[k])?.slice(0, 200)} → ${JSON.stringify(b[k])?.slice(0, 200)}`).join('\n');
}
