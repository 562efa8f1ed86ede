/**
 * AWS Signature Version 4: parsing the `Authorization` header, building the canonical request
 * and computing signatures. The verifier (auth.ts) and the raw-request signer used by tests
 * share this code; the real SDK signer is the independent check that it is right.
 */
import { createHash, createHmac } from 'node:crypto';

export const ALGORITHM = 'AWS4-HMAC-SHA256';

/** The fields of `Authorization: AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…`. */
export interface ParsedAuthorization {
  algorithm: string;
  accessKeyId?: string;
  scopeDate?: string;
  region?: string;
  service?: string;
  terminator?: string;
  signedHeaders?: string[];
  signature?: string;
}

export function parseAuthorization(header: string): ParsedAuthorization {
  const space = header.indexOf(' ');
  const algorithm = space < 0 ? header : header.slice(0, space);
  const out: ParsedAuthorization = { algorithm };
  const rest = space < 0 ? '' : header.slice(space + 1);
  for (const part of rest.split(',')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (key === 'Credential') {
      const fields = value.split('/');
      out.accessKeyId = fields[0];
      if (fields.length === 5) {
        [, out.scopeDate, out.region, out.service, out.terminator] = fields;
      }
    } else if (key === 'SignedHeaders') {
      out.signedHeaders = value.split(';').filter((h) => h.length > 0);
    } else if (key === 'Signature') {
      out.signature = value;
    }
  }
  return out;
}

/** RFC 3986 encoding as SigV4 wants it (unreserved characters kept, everything else %XX). */
export function uriEscape(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

export function signingKey(secretAccessKey: string, date: string, region: string, service: string): Buffer {
  return hmac(hmac(hmac(hmac(`AWS4${secretAccessKey}`, date), region), service), 'aws4_request');
}

/** Canonical path for non-S3 services: each segment of the (already encoded) path is encoded again. */
function canonicalPath(path: string): string {
  if (path === '' || path === '/') return '/';
  return path
    .split('/')
    .map((segment) => uriEscape(segment))
    .join('/');
}

function canonicalQuery(query: string): string {
  if (query === '') return '';
  const pairs = query
    .split('&')
    .filter((p) => p.length > 0)
    .map((p) => {
      const eq = p.indexOf('=');
      const k = decodeURIComponent((eq < 0 ? p : p.slice(0, eq)).replace(/\+/g, ' '));
      const v = eq < 0 ? '' : decodeURIComponent(p.slice(eq + 1).replace(/\+/g, ' '));
      return [uriEscape(k), uriEscape(v)] as const;
    });
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  return pairs.map(([k, v]) => `${k}=${v}`).join('&');
}

/** Header values by lower-case name, all occurrences kept in order (from Node's rawHeaders). */
export function headerValues(rawHeaders: string[]): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i].toLowerCase();
    const list = map.get(name) ?? [];
    list.push(rawHeaders[i + 1]);
    map.set(name, list);
  }
  return map;
}

export interface CanonicalInput {
  method: string;
  /** Path plus optional query string, exactly as on the request line. */
  url: string;
  headers: Map<string, string[]>;
  signedHeaders: string[];
  payloadHash: string;
}

export function canonicalRequest(input: CanonicalInput): string {
  const q = input.url.indexOf('?');
  const path = q < 0 ? input.url : input.url.slice(0, q);
  const query = q < 0 ? '' : input.url.slice(q + 1);
  const lines = input.signedHeaders.map((name) => {
    const values = input.headers.get(name) ?? [];
    return `${name}:${values.map((v) => v.trim().replace(/\s+/g, ' ')).join(',')}`;
  });
  return [
    input.method.toUpperCase(),
    canonicalPath(path),
    canonicalQuery(query),
    lines.join('\n') + '\n',
    input.signedHeaders.join(';'),
    input.payloadHash,
  ].join('\n');
}

export function computeSignature(args: {
  canonicalRequest: string;
  amzDate: string;
  scopeDate: string;
  region: string;
  service: string;
  secretAccessKey: string;
}): string {
  const scope = `${args.scopeDate}/${args.region}/${args.service}/aws4_request`;
  const stringToSign = [ALGORITHM, args.amzDate, scope, sha256Hex(args.canonicalRequest)].join('\n');
  return createHmac('sha256', signingKey(args.secretAccessKey, args.scopeDate, args.region, args.service))
    .update(stringToSign, 'utf8')
    .digest('hex');
}

/** `YYYYMMDDTHHMMSSZ` for a millisecond epoch. */
export function amzDate(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

/** Parses `YYYYMMDDTHHMMSSZ`; undefined when malformed. */
export function parseAmzDate(value: string): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (!m) return undefined;
  const ms = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]);
  return Number.isNaN(ms) ? undefined : ms;
}

/**
 * Signs a raw request the way the SDK does (for tests that must send what the SDK cannot:
 * a malformed body, a missing token). Returns the headers to send, `authorization` included.
 */
export function signRequest(args: {
  method?: string;
  url?: string;
  host: string;
  headers?: Record<string, string>;
  body: string;
  region: string;
  service: string;
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  now?: number;
}): Record<string, string> {
  const date = amzDate(args.now ?? Date.now());
  const headers: Record<string, string> = {
    ...Object.fromEntries(Object.entries(args.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v])),
    host: args.host,
    'x-amz-date': date,
  };
  if (args.sessionToken !== undefined) headers['x-amz-security-token'] = args.sessionToken;
  const signedHeaders = Object.keys(headers).sort();
  const map = new Map(Object.entries(headers).map(([k, v]) => [k, [v]]));
  const canonical = canonicalRequest({
    method: args.method ?? 'POST',
    url: args.url ?? '/',
    headers: map,
    signedHeaders,
    payloadHash: sha256Hex(args.body),
  });
  const scopeDate = date.slice(0, 8);
  const signature = computeSignature({
    canonicalRequest: canonical,
    amzDate: date,
    scopeDate,
    region: args.region,
    service: args.service,
    secretAccessKey: args.secretAccessKey,
  });
  headers.authorization = `${ALGORITHM} Credential=${args.accessKeyId}/${scopeDate}/${args.region}/${args.service}/aws4_request, SignedHeaders=${signedHeaders.join(';')}, Signature=${signature}`;
  return headers;
}
