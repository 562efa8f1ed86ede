import fc from 'fast-check';
import type { FuzzRoute, Schema } from './routes.js';

/**
 * Generated requests, as readable specs: a counterexample fast-check prints names the route,
 * the token, the parts of the URL and what the body is (`{ kind: 'deep', depth: 20000 }`)
 * rather than megabytes of text. `render` (in `run.ts`) turns a spec into bytes.
 */
export interface RequestSpec {
  method: string;
  /** Values of the template's parameters, already URL text (encoded, or deliberately not). */
  params: Record<string, string>;
  /** Query pairs, URL text. */
  query: Array<[string, string]>;
  token: 'root' | 'limited' | 'none' | { bogus: string };
  /** Send the token as `Authorization: Bearer` instead of `X-Vault-Token`. */
  bearer: boolean;
  headers: Record<string, string>;
  body: BodySpec;
}

export type BodySpec =
  | { kind: 'none' }
  | { kind: 'json'; value: unknown }
  /** JSON text cut at `at` (a fraction of its length), with `garbage` appended. */
  | { kind: 'malformed'; value: unknown; at: number; garbage: string }
  /** `{"<field>": [[[…]]]}` nested `depth` levels. */
  | { kind: 'deep'; field: string; depth: number; open: '[' | '{"a":' }
  | { kind: 'huge-string'; field: string; length: number }
  | { kind: 'many-keys'; field: string; count: number }
  | { kind: 'form'; pairs: Array<[string, string]> }
  | { kind: 'bytes'; bytes: number[] }
  /** The JSON text of `value` in another encoding, or with a byte-order mark. */
  | { kind: 'encoded'; value: unknown; encoding: 'utf16le' | 'latin1' | 'bom' | 'invalid-utf8' };

/** Values the fixture knows, so generated requests reach past "not found" into the code behind. */
export interface KnownValues {
  tokens: string[];
  accessors: string[];
}

/** Percent-encodes text; one with lone surrogates (which encodeURIComponent refuses) byte by byte, as its UTF-8 bytes. */
function encode(text: string): string {
  try {
    return encodeURIComponent(text);
  } catch {
    return [...Buffer.from(text)].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('');
  }
}

/** Text that has broken parsers, routers and path handling somewhere. */
const NASTY_SEGMENTS = [
  '..', '.', '%2e%2e', '%2E', '%2F', 'a%2Fb', '%00', 'a%00b', '%ZZ', '%', '%%', '%u0041', '%C0%AF', '%E2%80%AE', '%F0%9F%92%A5',
  '%20', '%20admin', 'ADMIN', 'Admin%09', '~', '*', '+', '%2B', '\\', '%5C', ';', ',', '%3F', '%23', 'a'.repeat(300), 'ü', '💥',
];
const KNOWN_SEGMENTS = [
  'app/db', 'app/private', 'app', 'x', 'a', 'default', 'root', 'admin', 'fuzz-limited', 'dest1', 'fuzzkey', 'aws-sm', 'secret', 'kv1',
  'team/kv', 'discard', 'nope', 'ci', 'alice', 'approle', 'userpass', 'jwt',
];

const segment = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom(...KNOWN_SEGMENTS) },
  { weight: 2, arbitrary: fc.constantFrom(...NASTY_SEGMENTS) },
  { weight: 2, arbitrary: fc.stringMatching(/^[a-zA-Z0-9_.-]{1,16}$/) },
  { weight: 1, arbitrary: fc.string({ minLength: 1, maxLength: 16, unit: 'binary' }).map(encode) },
  { weight: 1, arbitrary: fc.array(fc.stringMatching(/^[a-z0-9]{1,6}$/), { minLength: 2, maxLength: 5 }).map((s) => s.join('/')) },
  // Unencoded: whatever the URL parser and the router make of it.
  { weight: 1, arbitrary: fc.string({ minLength: 1, maxLength: 12 }) },
);

const DURATIONS = ['1h', '30s', '0', '0s', '-1s', '768h', '1.5h', '1h30m', 'system', '99999999999999h', '10', 3600, -5, 1e21, 'soon', ''];
const HCL = 'path "secret/*" { capabilities = ["read"] }';
const POLICIES_TEXT = [HCL, JSON.stringify({ path: { 'secret/*': { capabilities: ['list'] } } }), Buffer.from(HCL).toString('base64'), 'path "x" {', 'path "*" { capabilities = ["sudo", "deny"] }', 'path "a" { capabilities = ["fly"] }', ''];

/** Values that mean something to the field of that name. */
const BOOLEAN_FIELDS = new Set([
  'standbyok', 'perfstandbyok', 'exclude_deleted', 'purge', 'force_delete', 'no_parent', 'no_default_policy', 'renewable', 'local',
  'seal_wrap', 'external_entropy_access', 'disabled', 'disable_strict_networking', 'cas_required', 'reset', 'migrate',
]);

function fieldPool(name: string, known: KnownValues): unknown[] {
  if (/ttl|period|increment|delete_version_after|rotation_period/.test(name)) return DURATIONS;
  if (BOOLEAN_FIELDS.has(name)) return [true, false, 'true', 'false', '1', 't', 'yes'];
  if (name.endsWith('code')) return [200, 204, 429, 473, 503, '299', 0, 600];
  switch (name) {
    case 'version':
      return [0, 1, 2, '1', 99, -1, 'latest'];
    case 'depth':
      return [0, 1, 2, '3', -1];
    case 'list':
      return ['true', '1', 'false'];
    case 'input':
      return ['hello', '', 'hvs.x'];
    case 'description':
    case 'display_name':
    case 'plugin_name':
    case 'plugin_version':
    case 'external_id':
    case 'identity_token_audience':
    case 'kms_key_id':
      return ['', 'some text', 'ü', 'x'.repeat(600)];
    case 'identity_token_key':
      return ['default', 'fuzzkey', 'nope'];
    case 'access_key_id':
      return ['AKIAFERRYFUZZ0000002', 'short', ''];
    case 'secret_access_key':
      return ['another-secret-key', ''];
    case 'policy':
    case 'rules':
      return POLICIES_TEXT;
    case 'policies':
      return [['default', 'fuzz-limited'], 'a,b', ['root'], [], 'admin', ['ADMIN '], [1, true]];
    case 'token':
      return [...known.tokens, 'hvs.bogus', ''];
    case 'accessor':
      return [...known.accessors, 'bogus', ''];
    case 'type':
      return ['kv', 'kv-v2', 'kv-v1', 'file', 'aws', 'service', 'batch', 'system', 'cubbyhole', ''];
    case 'data':
      return [{ a: 1 }, { nested: { deep: [1, { x: 'y' }] } }, {}, 'string', [1, 2], null];
    case 'options':
      return [{ cas: 0 }, { cas: 1 }, { version: '2' }, { version: '1' }, { version: 3 }, { file_path: 'discard' }, 'cas=1', {}];
    case 'versions':
      return [[1], [1, 2, 99], '1,2', 'x', [-1], [], 1];
    case 'custom_metadata':
    case 'custom_tags':
    case 'meta':
      return [{ a: 'b' }, 'k=v', ['k=v', 'bad'], { 'aws:x': 'y' }, { k: 'v'.repeat(300) }, {}, 'x'];
    case 'max_versions':
    case 'num_uses':
    case 'queue_capacity':
    case 'secret_shares':
    case 'secret_threshold':
      return [0, 1, 5, -1, '3', 'x', 300, 1e9];
    case 'region':
      return ['us-east-1', 'eu-west-3', 'mars-1', '', 'US-EAST-1'];
    case 'role_arn':
      return ['arn:aws:iam::123456789012:role/x', 'arn:aws:iam::999999999999:role/y', 'not-an-arn', ''];
    case 'endpoint_url':
    case 'sts_endpoint_url':
    case 'issuer':
    case 'bound_issuer':
      // Loopback only: the fuzz must make no outside calls (nothing listens on port 9).
      return ['http://127.0.0.1:9', 'https://127.0.0.1:9/v1/x', 'not a url', 'ftp://x', 'http://user:pw@127.0.0.1:9', ''];
    case 'oidc_discovery_url':
    case 'jwks_url':
      return ['http://127.0.0.1:9', 'https://127.0.0.1:9/.well-known', 'not a url', ''];
    case 'jwt_validation_pubkeys':
      return [['-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----'], 'garbage', []];
    case 'password':
      return ['fuzz-password', 'wrong', '', 'p'.repeat(2000)];
    case 'role_id':
    case 'secret_id':
      return ['nope', '', 'x'.repeat(200)];
    case 'jwt':
      return ['eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.', 'a.b.c', 'garbage', ''];
    case 'token_policies':
      return [['default'], 'a,b', ['root'], []];
    case 'token_bound_cidrs':
    case 'secret_id_bound_cidrs':
    case 'bound_cidrs':
      return [['127.0.0.1/32'], ['bad'], '10.0.0.0/8'];
    case 'token_type':
      return ['service', 'batch', 'default', 'default-batch', 'x'];
    case 'secret_name_template':
      return ['{{ .SecretPath }}', '{{ .SecretKey }}', '{{', '{{ .Nope }}', '{{ .SecretPath | truncate 2 }}', '{{ sha256 .SecretPath }}', ''];
    case 'granularity':
      return ['secret-path', 'secret-key', 'x'];
    case 'mount':
      return ['secret', 'secret/', 'kv1', 'team/kv', 'nope', ''];
    case 'secret_name':
      return ['app/db', 'app/private', 'x', '/app/db', 'nope', ''];
    case 'allowed_ports':
      return [[443], ['x'], [70000], 'x'];
    case 'allowed_ipv4_addresses':
    case 'allowed_ipv6_addresses':
      return [['10.0.0.0/8'], ['::/0'], ['bad'], 'x'];
    case 'replica_regions':
    case 'tags_to_remove':
    case 'allowed_client_ids':
    case 'paths':
    case 'path':
      return [['us-west-2'], ['*'], 'a,b', ['secret/data/app/db', 'sys/mounts'], [], 'sys/mounts'];
    case 'algorithm':
      return ['RS256', 'ES256', 'EdDSA', 'none', ''];
    case 'listing_visibility':
      return ['unauth', 'hidden', '', 'bad'];
    case 'config':
      return [{ default_lease_ttl: '1h' }, { max_lease_ttl: 'x' }, { force_no_cache: 'yes' }, 'x'];
    case 'key':
      return ['garbage', Buffer.alloc(32).toString('base64'), Buffer.alloc(33).toString('hex'), ''];
    default:
      return ['', 'x', 'true', '1', 'default'];
  }
}

const wrongTyped = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.constantFrom<unknown>(null, true, false, 0, -1, 1.5, 2 ** 53, '', [], {}, [null], { '': '' }, '\u0000', '\ud800'),
);

function typed(schema: Schema | undefined): fc.Arbitrary<unknown> {
  const types = schema?.anyOf ? schema.anyOf.flatMap((s) => s.type ?? []) : [schema?.type ?? 'string'].flat();
  return fc.oneof(
    ...types.map((t) => {
      switch (t) {
        case 'number':
        case 'integer':
          return fc.oneof(fc.integer(), fc.double());
        case 'boolean':
          return fc.boolean();
        case 'array':
          return fc.array(fc.oneof(fc.string(), fc.integer()), { maxLength: 4 });
        case 'object':
          return fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 });
        default:
          return fc.string({ maxLength: 24 });
      }
    }),
  );
}

function fieldValue(name: string, schema: Schema | undefined, known: KnownValues, sensible = false): fc.Arbitrary<unknown> {
  if (sensible) return fc.constantFrom(...fieldPool(name, known));
  return fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...fieldPool(name, known)) },
    { weight: 3, arbitrary: typed(schema) },
    { weight: 1, arbitrary: wrongTyped },
  );
}

/** A body object for the route: some of its declared fields (sensible, typed or wrongly typed values), maybe extra ones. */
function bodyObject(route: FuzzRoute, known: KnownValues, sensible = false): fc.Arbitrary<Record<string, unknown>> {
  const fields = route.body ?? {};
  const declared = Object.fromEntries(Object.entries(fields).map(([name, schema]) => [name, fieldValue(name, schema, known, sensible)]));
  if (sensible) return fc.record(declared, { requiredKeys: [] });
  return fc
    .tuple(
      fc.record(declared, { requiredKeys: [] }),
      fc.dictionary(fc.constantFrom('extra', 'help', 'list', '__proto__', 'constructor', 'data', 'x'), wrongTyped, { maxKeys: 2 }),
    )
    .map(([ownFields, extra]) => ({ ...extra, ...ownFields }));
}

function bodySpec(route: FuzzRoute, known: KnownValues): fc.Arbitrary<BodySpec> {
  const field = fc.constantFrom(...Object.keys(route.body ?? {}), 'data', 'x');
  const object = bodyObject(route, known);
  return fc.oneof(
    { weight: route.body ? 2 : 6, arbitrary: fc.constant<BodySpec>({ kind: 'none' }) },
    { weight: route.body ? 16 : 2, arbitrary: object.map((value): BodySpec => ({ kind: 'json', value })) },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((value): BodySpec => ({ kind: 'json', value })) },
    {
      weight: 2,
      arbitrary: fc
        .record({ value: object, at: fc.double({ min: 0, max: 1, noNaN: true }), garbage: fc.constantFrom('', ',', '}', ']]', '\u0000', 'x', '{{', '"', ',}') })
        .map((m): BodySpec => ({ kind: 'malformed', ...m })),
    },
    {
      weight: 2,
      arbitrary: fc
        .record({ field, depth: fc.oneof(fc.integer({ min: 490, max: 510 }), fc.constantFrom(2_000, 20_000)), open: fc.constantFrom<'[' | '{"a":'>('[', '{"a":') })
        .map((m): BodySpec => ({ kind: 'deep', ...m })),
    },
    {
      weight: 1,
      arbitrary: fc
        .record({ field, length: fc.constantFrom(70_000, 1_048_576, 1_048_577, 1_500_000) })
        .map((m): BodySpec => ({ kind: 'huge-string', ...m })),
    },
    { weight: 1, arbitrary: fc.record({ field, count: fc.constantFrom(10_000, 10_001, 50_000) }).map((m): BodySpec => ({ kind: 'many-keys', ...m })) },
    {
      weight: 1,
      arbitrary: fc
        .array(fc.tuple(fc.constantFrom(...Object.keys(route.body ?? {}), 'type', 'x'), fc.string({ maxLength: 12 })), { maxLength: 4 })
        .map((pairs): BodySpec => ({ kind: 'form', pairs })),
    },
    { weight: 1, arbitrary: fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 64 }).map((bytes): BodySpec => ({ kind: 'bytes', bytes })) },
    {
      weight: 1,
      arbitrary: fc
        .record({ value: object, encoding: fc.constantFrom<'utf16le' | 'latin1' | 'bom' | 'invalid-utf8'>('utf16le', 'latin1', 'bom', 'invalid-utf8') })
        .map((m): BodySpec => ({ kind: 'encoded', ...m })),
    },
  );
}

function queryPairs(route: FuzzRoute, known: KnownValues, sensible = false): fc.Arbitrary<Array<[string, string]>> {
  const declared = Object.entries(route.query).map(([name, schema]) =>
    fc.option(
      fieldValue(name, schema, known, sensible).map((v): [string, string] => [name, encode(typeof v === 'string' ? v : (JSON.stringify(v) ?? ''))]),
      // The list form's `list=true` is what makes the operation a list: usually there.
      { nil: undefined, freq: name === 'list' ? 8 : sensible ? 3 : 2 },
    ),
  );
  const extra = fc.oneof(
    { weight: 3, arbitrary: fc.constant<Array<[string, string]>>([]) },
    { weight: 1, arbitrary: fc.array(
    fc.tuple(
      fc.constantFrom('list', 'help', 'version', 'x', 'activecode', 'purge', '%ZZ', ''),
      fc.oneof(fc.constantFrom('true', '1', 'false', 'maybe', '%ZZ', '', '499', '200'), fc.string({ maxLength: 8 }).map(encode)),
    ),
    { minLength: 1, maxLength: 2 },
  ) },
  );
  return fc.tuple(fc.tuple(...declared), sensible ? fc.constant<Array<[string, string]>>([]) : extra).map(([d, e]) => [...d.filter((p): p is [string, string] => p !== undefined), ...e]);
}

const tokenArb = fc.oneof(
  { weight: 5, arbitrary: fc.constant<'root'>('root') },
  { weight: 4, arbitrary: fc.constant<'limited'>('limited') },
  { weight: 1, arbitrary: fc.constant<'none'>('none') },
  { weight: 1, arbitrary: fc.oneof(fc.constantFrom('hvs.nope', 'root ', ' ', 'x'.repeat(5000)), fc.string({ maxLength: 30 })).map((bogus) => ({ bogus })) },
);

/** Mostly the headers clients send; now and then odd ones, which refuse most requests early. */
function headersArb(route: FuzzRoute): fc.Arbitrary<Record<string, string>> {
  const usual: Record<string, string> = route.method === 'PATCH' ? { 'content-type': 'application/merge-patch+json' } : {};
  return fc.oneof(
    { weight: 12, arbitrary: fc.constant<Record<string, string>>(usual) },
    {
      weight: 3,
      arbitrary: fc.constantFrom<Record<string, string>>(
        { ...usual, 'x-vault-request': 'true' },
        { 'content-type': 'application/json' },
        { ...usual, 'x-vault-namespace': 'root' },
        { ...usual, 'x-vault-namespace': '' },
        // The LIST verb, as the socket layer marks it for the dispatcher.
        { ...usual, 'x-ferry-list-verb': '1' },
      ),
    },
    {
      weight: 1,
      arbitrary: fc.record(
        {
          'content-type': fc.constantFrom('application/merge-patch+json', 'application/x-www-form-urlencoded', 'text/plain', 'application/json; charset=utf-16', '', 'x/y'),
          'x-vault-namespace': fc.constantFrom('ns1', 'root/', '\u00ff'),
          'x-vault-wrap-ttl': fc.constantFrom('1m', 'x', '0'),
          'content-encoding': fc.constantFrom('gzip', 'br', 'x'),
        },
        { requiredKeys: [] },
      ) as fc.Arbitrary<Record<string, string>>,
    },
  );
}

/** Mostly the route's own method; now and then another one, or a form Vault clients use. */
function methodArb(route: FuzzRoute): fc.Arbitrary<string> {
  const own = route.method === 'POST' ? fc.constantFrom('POST', 'PUT') : fc.constant(route.method);
  return fc.oneof({ weight: 8, arbitrary: own }, { weight: 1, arbitrary: fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS', 'TRACE') });
}

/** Values of a path parameter that name something the fixture has (or a new one), by where the parameter is. */
function sensibleParam(route: FuzzRoute, name: string): fc.Arbitrary<string> {
  const t = route.template;
  const pick = (...values: string[]) => fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...values) }, { weight: 1, arbitrary: fc.stringMatching(/^[a-z][a-z0-9-]{0,10}$/) });
  if (t.startsWith('/sys/sync/destinations')) return pick('dest1');
  if (t.startsWith('/sys/sync/associations')) return pick('secret/app/db', 'secret/x');
  if (t.startsWith('/sys/polic')) return pick('admin', 'fuzz-limited', 'default', 'root', 'ADMIN');
  if (t.startsWith('/identity/oidc/key')) return pick('fuzzkey', 'default');
  if (t.startsWith('/sys/audit')) return pick('discard');
  if (t.startsWith('/sys/auth')) return pick('approle', 'userpass', 'jwt', 'new-auth');
  if (name === 'role_name' || (t.startsWith('/auth/{jwt') && name === 'name')) return pick('ci');
  if (name === 'username') return pick('alice');
  if (t.startsWith('/sys/mounts') || t.startsWith('/sys/internal')) return pick('secret', 'team/kv', 'kv1', 'new-kv', 'deep/er/kv');
  if (name === 'path') return pick('app/db', 'app/private', 'app', 'x', 'a', 'app/new');
  return fc.constantFrom(...KNOWN_SEGMENTS);
}

/** Bodies a client would send to the route to have it succeed (route-specific knowledge the schema lacks). */
const RECIPES: Record<string, Array<Record<string, unknown>>> = {
  '/sys/sync/destinations/aws-sm/{name}': [
    { access_key_id: 'AKIAFERRYFUZZ0000003', secret_access_key: 'fuzz-key-2', region: 'us-east-1', endpoint_url: 'http://127.0.0.1:9' },
    { role_arn: 'arn:aws:iam::123456789012:role/x', identity_token_audience: 'aud', region: 'us-east-1' },
    { granularity: 'secret-key', secret_name_template: '{{ .SecretPath }}-{{ .SecretKey }}', custom_tags: { team: 'a' } },
  ],
  '/sys/sync/destinations/{type}/{name}': [{ region: 'us-east-1', access_key_id: 'AKIAFERRYFUZZ0000003', secret_access_key: 'k' }, { custom_tags: { a: 'b' } }],
  '/sys/sync/destinations/{type}/{name}/associations/set': [{ mount: 'secret', secret_name: 'app/db' }, { mount: 'team/kv', secret_name: 'x' }],
  '/sys/sync/destinations/{type}/{name}/associations/remove': [{ mount: 'secret', secret_name: 'app/db' }],
  '/sys/audit/{path}': [{ type: 'file', options: { file_path: 'discard' } }, { type: 'file', options: { file_path: 'discard', mode: '0640' } }],
  '/sys/mounts/{path}': [{ type: 'kv-v2' }, { type: 'kv', options: { version: '1' } }, { type: 'kv', config: { default_lease_ttl: '1h' } }],
  '/sys/mounts/{path}/tune': [{ description: 'tuned' }, { default_lease_ttl: '1h', max_lease_ttl: '2h' }, { options: { version: '2' } }],
  '/{kv_v2_mount_path}/data/{path}': [{ data: { a: 'b' } }, { data: { a: 'c' }, options: { cas: 1 } }, { data: { n: { deep: [1, 2] } } }],
  '/{kv_v2_mount_path}/metadata/{path}': [{ max_versions: 3 }, { custom_metadata: { owner: 'me' } }, { delete_version_after: '1h' }],
  '/{kv_v2_mount_path}/config': [{ max_versions: 5 }, { cas_required: true }],
  '/{kv_v1_mount_path}/{path}': [{ v: '2', other: 'x' }],
  '/auth/token/create': [{ policies: ['fuzz-limited'], ttl: '1h' }, { num_uses: 3, meta: { a: 'b' } }, { no_default_policy: true, policies: ['admin'] }],
  '/auth/token/create-orphan': [{ policies: ['default'] }],
  '/identity/oidc/key/{name}': [{ algorithm: 'RS256', rotation_period: '24h' }, { allowed_client_ids: ['*'] }],
  '/sys/policies/acl/{name}': [{ policy: 'path "secret/*" { capabilities = ["read"] }' }],
  '/sys/policy/{name}': [{ rules: 'path "secret/*" { capabilities = ["list"] }' }],
  '/sys/capabilities': [{ paths: ['secret/data/app/db'], token: 'root' }],
  '/sys/capabilities-self': [{ paths: ['secret/data/app/db', 'sys/mounts'] }],
  '/sys/audit-hash/{path}': [{ input: 'hello' }],
  '/sys/sync/config': [{ disabled: false, queue_capacity: 100 }],
  '/identity/oidc/config': [{ issuer: 'https://ferry.example.com' }],
  '/sys/auth/{path}': [{ type: 'userpass' }, { type: 'approle', description: 'x' }, { type: 'jwt' }],
  '/sys/auth/{path}/tune': [{ default_lease_ttl: '1h' }, { token_type: 'default-batch' }, { listing_visibility: 'unauth' }],
  '/auth/{approle_mount_path}/role/{role_name}': [{ token_policies: ['default'], secret_id_num_uses: 2 }, { bind_secret_id: false, token_bound_cidrs: ['127.0.0.1/32'] }],
  '/auth/{approle_mount_path}/role/{role_name}/secret-id': [{ metadata: '{"a":"b"}' }, {}],
  '/auth/{approle_mount_path}/role/{role_name}/custom-secret-id': [{ secret_id: 'custom-secret-id-1' }],
  '/auth/{approle_mount_path}/login': [{ role_id: 'nope', secret_id: 'nope' }],
  '/auth/{userpass_mount_path}/users/{username}': [{ password: 'pw2', token_policies: ['default'] }, { token_ttl: '1h' }],
  '/auth/{userpass_mount_path}/users/{username}/password': [{ password: 'pw3' }],
  '/auth/{userpass_mount_path}/users/{username}/policies': [{ token_policies: ['default', 'fuzz-limited'] }],
  '/auth/{userpass_mount_path}/login/{username}': [{ password: 'fuzz-password' }, { password: 'wrong' }],
  '/auth/{jwt_mount_path}/role/{name}': [{ role_type: 'jwt', user_claim: 'sub', bound_audiences: ['ferry'] }, { bound_claims: { repo: 'x/*' }, bound_claims_type: 'glob' }],
  '/auth/{jwt_mount_path}/login': [{ role: 'ci', jwt: 'a.b.c' }],
};

/**
 * Requests for one route: half of them sensible — the route's own method, existing mounts and
 * names, a real token, values that mean something to each field, bodies a client would send —
 * so that they reach the code behind validation; the other half hostile in every part.
 */
export function requestArb(route: FuzzRoute, known: KnownValues): fc.Arbitrary<RequestSpec> {
  const hostileParams = Object.fromEntries(
    route.pathParams.map((name) => {
      if (name === 'kv_v2_mount_path') return [name, fc.oneof({ weight: 8, arbitrary: fc.constantFrom('secret', 'team/kv') }, { weight: 1, arbitrary: fc.constantFrom('kv1', 'nope') })];
      if (name === 'kv_v1_mount_path') return [name, fc.oneof({ weight: 8, arbitrary: fc.constant('kv1') }, { weight: 1, arbitrary: fc.constant('secret') })];
      if (name === 'type') return [name, fc.oneof({ weight: 4, arbitrary: fc.constant('aws-sm') }, { weight: 1, arbitrary: segment })];
      if (name.endsWith('_mount_path')) return [name, fc.oneof({ weight: 8, arbitrary: fc.constant(name.slice(0, -'_mount_path'.length)) }, { weight: 1, arbitrary: segment })];
      return [name, segment];
    }),
  );
  const sensibleParams = Object.fromEntries(
    route.pathParams.map((name) => {
      if (name === 'kv_v2_mount_path') return [name, fc.constantFrom('secret', 'team/kv')];
      if (name === 'kv_v1_mount_path') return [name, fc.constant('kv1')];
      if (name === 'type') return [name, fc.constant('aws-sm')];
      // `{approle_mount_path}` and the like: the fixture mounts each method at its type's name.
      if (name.endsWith('_mount_path')) return [name, fc.constant(name.slice(0, -'_mount_path'.length))];
      return [name, sensibleParam(route, name)];
    }),
  );
  const recipes = RECIPES[route.template];
  const pooled = bodyObject(route, known, true);
  const sensibleObject = recipes ? fc.oneof({ weight: 2, arbitrary: fc.constantFrom(...recipes) }, { weight: 1, arbitrary: pooled }) : pooled;
  const sensibleBody: fc.Arbitrary<BodySpec> = route.body
    ? sensibleObject.map((value): BodySpec => ({ kind: 'json', value }))
    : fc.constant<BodySpec>({ kind: 'none' });
  const sensible = fc.record({
    method: route.method === 'POST' ? fc.constantFrom('POST', 'PUT') : fc.constant(route.method),
    params: fc.record(sensibleParams),
    query: queryPairs(route, known, true),
    token: fc.constantFrom<'root' | 'limited'>('root', 'root', 'limited'),
    bearer: fc.boolean(),
    headers: fc.constant<Record<string, string>>(route.method === 'PATCH' ? { 'content-type': 'application/merge-patch+json' } : {}),
    body: sensibleBody,
  });
  const hostile = fc.record({
    method: methodArb(route),
    params: fc.record(hostileParams),
    query: queryPairs(route, known),
    token: tokenArb,
    bearer: fc.boolean(),
    headers: headersArb(route),
    body: bodySpec(route, known),
  });
  return fc.oneof(sensible, hostile);
}
