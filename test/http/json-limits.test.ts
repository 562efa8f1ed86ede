import net from 'node:net';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_JSON_LIMITS, JsonLimitScanner, type JsonLimitBreach, type JsonLimits } from '../../src/http/json-limits.js';
import { useListeningServer, useTestServer } from '../support/fixtures.js';
import { logicalSnapshot } from '../support/store-snapshot.js';
import { loadRoutes } from '../fuzz/routes.js';

const DEPTH = 'JSON input exceeds allowed nesting depth';
const STRING = 'JSON string value exceeds allowed length';
const NUMBER = 'JSON number value exceeds allowed length';
const OBJECT = 'JSON object exceeds allowed entry count';
const ARRAY = 'JSON array exceeds allowed element count';

/** `{"data":{"k0":0,…}}` with `n` keys in the inner object. */
function manyKeys(n: number): string {
  const parts = new Array<string>(n);
  for (let i = 0; i < n; i++) parts[i] = `"k${i}":0`;
  return `{"data":{${parts.join(',')}}}`;
}
const nested = (depth: number, open = '[', close = ']') => `{"data":${open.repeat(depth - 1)}${close.repeat(depth - 1)}}`;

describe('JSON limits on request bodies (Vault defaults)', () => {
  const t = useTestServer();
  const put = (rawBody: string, url = '/v1/secret/data/app') => t.call('PUT', url, { rawBody });

  it('20,000 levels of nesting → 400 with Vault\'s message, and nothing is stored', async () => {
    const before = await logicalSnapshot(t.server.core.store);
    for (const [open, close] of [['[', ']'], ['{"a":', '}']]) {
      const res = await put(nested(20_000, open, close));
      expect(res.statusCode).toBe(400);
      expect(res.json()).toEqual({ errors: [DEPTH] });
    }
    expect(await logicalSnapshot(t.server.core.store)).toEqual(before);
  });

  it('allows exactly 500 levels (the body\'s own object counts as one) and refuses 501', async () => {
    // 500 levels: the outer object plus 499 arrays in `data`, which is not an object → the field's 400, not the limit's.
    const atLimit = await put(nested(500));
    expect(atLimit.json()).toEqual({ errors: ['Field validation failed: error converting input for field "data": expected a JSON object'] });
    const deepObject = `{"data":${'{"a":'.repeat(498)}1${'}'.repeat(498)}}`;
    expect((await put(deepObject)).statusCode).toBe(200);
    expect((await put(nested(501))).json()).toEqual({ errors: [DEPTH] });
  });

  it('a 400,000-key body → 400 under the default limits; 10,000 keys in one object are accepted', async () => {
    const res = await put(manyKeys(400_000));
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ errors: [OBJECT] });
    expect((await put(manyKeys(10_000))).statusCode).toBe(200);
    expect((await put(manyKeys(10_001))).json()).toEqual({ errors: [OBJECT] });
  });

  it('a body that breaks a limit and then has a syntax error answers with the limit\'s error', async () => {
    expect((await put(`${manyKeys(10_001).slice(0, -2)},,,garbage`)).json()).toEqual({ errors: [OBJECT] });
    expect((await put(`${'['.repeat(600)}not json at all`)).json()).toEqual({ errors: [DEPTH] });
    // Within the limits, the syntax error is what is reported.
    expect((await put(`${manyKeys(100).slice(0, -2)},,,garbage`)).json()).toEqual({ errors: ['error parsing JSON'] });
  });

  it('applies to every operation of the OpenAPI document that takes a body, logins and unauthenticated routes included, with or without a token', async () => {
    for (const [method, path, body] of [
      ['POST', '/v1/sys/mounts/kv1', { type: 'kv', options: { version: '1' } }],
      ['POST', '/v1/sys/auth/approle', { type: 'approle' }],
      ['POST', '/v1/sys/auth/userpass', { type: 'userpass' }],
      ['POST', '/v1/sys/auth/jwt', { type: 'jwt' }],
      ['POST', '/v1/auth/userpass/users/alice', { password: 'pw' }],
    ] as const) {
      expect((await t.call(method, path, { body })).statusCode, path).toBeLessThan(300);
    }
    const before = await logicalSnapshot(t.server.core.store);
    const mountOf = (name: string) => (name === 'kv_v2_mount_path' ? 'secret' : name === 'kv_v1_mount_path' ? 'kv1' : name === 'type' ? 'aws-sm' : name.endsWith('_mount_path') ? name.slice(0, -'_mount_path'.length) : name === 'username' ? 'alice' : 'x');
    // A snapshot upload's body is a gzip archive, not JSON: no JSON limit applies to it.
    const routes = loadRoutes().filter((r) => r.body !== undefined && !r.template.startsWith('/sys/storage/raft/snapshot'));
    expect(routes.map((r) => r.key)).toEqual(expect.arrayContaining(['POST /auth/{userpass_mount_path}/login/{username}', 'POST /auth/{approle_mount_path}/login', 'POST /auth/{jwt_mount_path}/login', 'POST /sys/unseal']));
    const bodies: Array<[string, string]> = [[nested(20_000), DEPTH], [manyKeys(10_001), OBJECT]];
    for (const route of routes) {
      const url = `/v1${route.template.replace(/\{([^}]+)\}/g, (_, name: string) => mountOf(name))}`;
      for (const token of [undefined, null]) {
        for (const [rawBody, error] of bodies) {
          const res = await t.call(route.method, url, { rawBody, token, headers: { 'content-type': route.method === 'PATCH' ? 'application/merge-patch+json' : 'application/json' } });
          expect({ route: route.key, status: res.statusCode, body: res.json() }).toEqual({ route: route.key, status: 400, body: { errors: [error] } });
        }
      }
    }
    expect(await logicalSnapshot(t.server.core.store)).toEqual(before);
  });

  it('limits strings (keys too) and number literals to 1 MiB, and arrays to 10,000 elements', async () => {
    const mib = 1024 * 1024;
    expect((await put(`{"data":{"v":"${'x'.repeat(mib)}"}}`)).statusCode).toBe(200);
    expect((await put(`{"data":{"v":"${'x'.repeat(mib + 1)}"}}`)).json()).toEqual({ errors: [STRING] });
    expect((await put(`{"data":{"${'k'.repeat(mib + 1)}":1}}`)).json()).toEqual({ errors: [STRING] });
    // Escapes count as written: 600,000 `\n` escapes are 1.2 MB on the wire.
    expect((await put(`{"data":{"v":"${'\\n'.repeat(600_000)}"}}`)).json()).toEqual({ errors: [STRING] });
    expect((await put(`{"data":{"v":${'9'.repeat(mib + 1)}}}`)).json()).toEqual({ errors: [NUMBER] });
    const array = (n: number) => `{"data":{"v":[${new Array(n).fill(0).join(',')}]}}`;
    expect((await put(array(10_000))).statusCode).toBe(200);
    expect((await put(array(10_001))).json()).toEqual({ errors: [ARRAY] });
  });

  it('applies to JSON bodies whatever their Content-Type, and not to form bodies', async () => {
    const res = await t.call('PUT', '/v1/secret/data/app', {
      rawBody: nested(600),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(res.json()).toEqual({ errors: [DEPTH] });
    const form = await t.call('POST', '/v1/sys/mounts/f', {
      rawBody: `type=kv&description=${'['.repeat(600)}`,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(form.statusCode).toBe(204);
  });

  it('reads a form body of 100,000 distinct keys in one pass (each key once, repeats as a list), so it cannot hold the event loop', async () => {
    // Grouping with URLSearchParams.getAll per key rescanned every pair: n² steps, minutes here.
    const pairs = Array.from({ length: 100_000 }, (_, i) => `k${i}=v`);
    const res = await t.call('POST', '/v1/sys/mounts/many', {
      rawBody: ['type=kv', 'description=a', 'description=b', ...pairs].join('&'),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    // The repeated key reached the handler as a list (a string field refuses it), so the body was read.
    expect(res.statusCode).toBe(400);
    expect(JSON.stringify(res.json())).toContain('description');
  });
});

describe('JSON limits configured on the listener', () => {
  const t = useTestServer({ jsonLimits: { maxDepth: 3, maxStringValueLength: 8, maxObjectEntryCount: 2, maxArrayElementCount: 3 } });
  const put = (body: string) => t.call('PUT', '/v1/secret/data/app', { rawBody: body });

  it('enforces the configured values', async () => {
    expect((await put('{"data":{"a":[1,2,3]}}')).statusCode).toBe(200);
    expect((await put('{"data":{"a":[[1]]}}')).json()).toEqual({ errors: [DEPTH] });
    expect((await put('{"data":{"a":"123456789"}}')).json()).toEqual({ errors: [STRING] });
    expect((await put('{"data":{"a":1,"b":2,"c":3}}')).json()).toEqual({ errors: [OBJECT] });
    expect((await put('{"data":{"a":[1,2,3,4]}}')).json()).toEqual({ errors: [ARRAY] });
  });
});

describe('JSON limits while the body is still arriving', () => {
  const s = useListeningServer();

  it('answers a body that breaks a limit before the client has sent the rest of it', async () => {
    const socket = net.connect(s.listener.port, '127.0.0.1');
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    let received = '';
    socket.on('data', (chunk) => (received += chunk.toString('utf8')));
    const answered = new Promise<void>((resolve) => {
      socket.on('data', () => {
        if (received.includes('\r\n\r\n') && received.includes('"errors"')) resolve();
      });
    });
    // Announces 20 MB, sends the first 200 KB (over 10,000 keys), then waits: the answer must come now.
    const first = manyKeys(20_000).slice(0, 200_000);
    socket.write(
      `PUT /v1/secret/data/app HTTP/1.1\r\nHost: x\r\nX-Vault-Token: ${s.rootToken}\r\nContent-Length: 20000000\r\n\r\n${first}`,
    );
    await answered;
    socket.destroy();
    expect(received.slice(0, 12)).toBe('HTTP/1.1 400');
    expect(received).toContain(JSON.stringify({ errors: [OBJECT] }));
  });
});

/** The first limit a body breaks, computed from the parsed value in document order (the reference). */
function referenceBreach(text: string, limits: JsonLimits): JsonLimitBreach | undefined {
  const walk = (value: unknown, depth: number): JsonLimitBreach | undefined => {
    if (typeof value === 'string') return Buffer.byteLength(JSON.stringify(value)) - 2 > limits.maxStringValueLength ? 'string' : undefined;
    if (typeof value === 'number') return JSON.stringify(value).length > limits.maxStringValueLength ? 'number' : undefined;
    if (value === null || typeof value !== 'object') return undefined;
    if (depth > limits.maxDepth) return 'depth';
    const entries = Array.isArray(value) ? value.map((v) => [undefined, v] as const) : Object.entries(value);
    let count = 0;
    for (const [key, v] of entries) {
      count++;
      // The separator before the (limit+1)-th member is where the scanner notices.
      if (count > (Array.isArray(value) ? limits.maxArrayElementCount : limits.maxObjectEntryCount)) return Array.isArray(value) ? 'array' : 'object';
      if (key !== undefined && Buffer.byteLength(JSON.stringify(key)) - 2 > limits.maxStringValueLength) return 'string';
      const inner = walk(v, depth + 1);
      if (inner) return inner;
    }
    return undefined;
  };
  return walk(JSON.parse(text), 1);
}

describe('JsonLimitScanner', () => {
  const limitsArb = fc.record({
    maxDepth: fc.integer({ min: 1, max: 6 }),
    maxStringValueLength: fc.integer({ min: 1, max: 12 }),
    maxObjectEntryCount: fc.integer({ min: 1, max: 4 }),
    maxArrayElementCount: fc.integer({ min: 1, max: 4 }),
  });
  const documentArb = fc.oneof(fc.array(fc.jsonValue()), fc.dictionary(fc.string(), fc.jsonValue())).map((v) => JSON.stringify(v, null, 1));

  it('finds the same first breach as a walk of the parsed value, however the bytes are split into chunks', () => {
    fc.assert(
      fc.property(documentArb, limitsArb, fc.array(fc.nat(), { maxLength: 8 }), (text, limits, cuts) => {
        const bytes = Buffer.from(text);
        const whole = new JsonLimitScanner(limits).push(bytes);
        expect(whole).toBe(referenceBreach(text, limits));
        const scanner = new JsonLimitScanner(limits);
        const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
        let breach: JsonLimitBreach | undefined;
        let from = 0;
        for (const to of [...points, bytes.length]) {
          breach ??= scanner.push(bytes.subarray(from, to));
          from = to;
        }
        expect(breach).toBe(whole);
      }),
      { numRuns: 2000 },
    );
  });

  it('checks only bodies that start with { or [ (after a byte-order mark and whitespace)', () => {
    const tight = { ...DEFAULT_JSON_LIMITS, maxDepth: 1 };
    expect(new JsonLimitScanner(tight).push(Buffer.from('\ufeff \n[[]]'))).toBe('depth');
    expect(new JsonLimitScanner(tight).push(Buffer.from('a=[[[[]]]]'))).toBeUndefined();
    expect(new JsonLimitScanner(tight).push(Buffer.from('"[[[["'))).toBeUndefined();
  });
});

describe('the deepest max_json_depth a listener accepts', () => {
  const t = useTestServer({ jsonLimits: { maxDepth: 1000 } });

  it('serves a body nested 1,000 deep — stored, read back and audited — without overflowing the stack', async () => {
    const { tempDirForTest } = await import('../support/fixtures.js');
    const file = `${tempDirForTest()}/audit.log`;
    expect((await t.call('PUT', '/v1/sys/audit/file', { body: { type: 'file', options: { file_path: file } } })).statusCode).toBe(204);
    const deep = `{"data":${'{"a":'.repeat(998)}"bottom"${'}'.repeat(998)}}`;
    expect((await t.call('PUT', '/v1/secret/data/deep', { rawBody: deep })).statusCode).toBe(200);
    const read = await t.call('GET', '/v1/secret/data/deep');
    expect(read.statusCode).toBe(200);
    expect(JSON.stringify(read.json().data.data)).toBe(deep.slice('{"data":'.length, -1));
    expect((await t.call('PUT', '/v1/secret/data/deep', { rawBody: `{"data":${'['.repeat(1000)}${']'.repeat(1000)}}` })).json()).toEqual({
      errors: [DEPTH],
    });
  });
});
