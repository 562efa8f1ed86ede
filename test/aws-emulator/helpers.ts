/**
 * Shared fixtures for the emulator's own tests: an emulator with a movable clock, real SDK
 * clients pointed at it, a tiny OIDC issuer (discovery + JWKS over HTTP, tokens signed with
 * jose), and raw HTTP helpers for requests the SDK refuses to send.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { STSClient } from '@aws-sdk/client-sts';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';
import { afterEach, beforeEach, expect, onTestFinished } from 'vitest';
import { signRequest, startAwsEmulator, type AwsEmulator, type EmulatorOptions } from '../support/aws-emulator/index.js';
import { manualClock, type ManualClock } from '../support/clock.js';
import { standIn } from '../support/fixtures.js';

export const REGION = 'eu-west-1';
export const ACCOUNT = '123456789012';
export const AKIA = { accessKeyId: 'AKIAEMULATOR00000001', secretAccessKey: 'emulator-secret' };

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** An emulator whose clock (starting at the real time) moves only when the test says so. */
export async function startEmulator(opts: EmulatorOptions = {}): Promise<{ emu: AwsEmulator; clock: ManualClock }> {
  const clock = manualClock();
  const emu = await startAwsEmulator({ clock, ...opts });
  return { emu, clock };
}

/** What `useEmulator` gives a test file: stand-ins for the current test's emulator and clients. */
export interface EmulatorFixture {
  emu: AwsEmulator;
  /** The emulator's clock; it starts at the real time in every test. */
  clock: ManualClock;
  /** A Secrets Manager client in REGION with the default account's long-term key. */
  sm: SecretsManagerClient;
  /** An STS client in REGION without credentials (web identity needs none). */
  sts: STSClient;
}

/**
 * A fresh emulator for every test of the calling file (or `describe` block), closed after it,
 * with SDK clients made on first use and destroyed after the test. A file declares
 * `const { emu, clock, sm } = useEmulator()` once; see `perTest` for how the stand-ins work.
 */
export function useEmulator(opts: EmulatorOptions = {}): EmulatorFixture {
  const clock = manualClock();
  let current: { emu: AwsEmulator; sm?: SecretsManagerClient; sts?: STSClient } | undefined;
  beforeEach(async () => {
    clock.set(Date.now());
    current = { emu: await startAwsEmulator({ clock, ...opts }) };
  });
  afterEach(async () => {
    const done = current;
    current = undefined;
    done?.sm?.destroy();
    done?.sts?.destroy();
    await done?.emu.close();
  });
  return {
    clock,
    emu: standIn('the emulator', () => current?.emu),
    sm: standIn('the Secrets Manager client', () => current && (current.sm ??= smClient(current.emu))),
    sts: standIn('the STS client', () => current && (current.sts ??= stsClient(current.emu))),
  };
}

export function smClient(
  emu: AwsEmulator,
  opts: { region?: string; credentials?: Credentials; maxAttempts?: number; systemClockOffset?: number } = {},
): SecretsManagerClient {
  return new SecretsManagerClient({
    region: opts.region ?? REGION,
    endpoint: emu.endpoint,
    credentials: opts.credentials ?? AKIA,
    maxAttempts: opts.maxAttempts ?? 1,
    ...(opts.systemClockOffset !== undefined ? { systemClockOffset: opts.systemClockOffset } : {}),
  });
}

export function stsClient(emu: AwsEmulator, opts: { region?: string; credentials?: Credentials; maxAttempts?: number } = {}): STSClient {
  return new STSClient({
    region: opts.region ?? REGION,
    endpoint: emu.endpoint,
    maxAttempts: opts.maxAttempts ?? 1,
    ...(opts.credentials !== undefined ? { credentials: opts.credentials } : {}),
  });
}

/** Awaits a rejection and checks the SDK error's name, message and HTTP status. */
export async function expectAwsError(
  promise: Promise<unknown>,
  name: string,
  message?: string | RegExp,
  status = 400,
): Promise<Error & { $metadata: { httpStatusCode?: number; attempts?: number }; $fault?: string }> {
  let error: unknown;
  try {
    await promise;
  } catch (e) {
    error = e;
  }
  expect(error, `expected ${name}`).toBeInstanceOf(Error);
  const err = error as Error & { $metadata: { httpStatusCode?: number; attempts?: number }; $fault?: string };
  expect(err.name).toBe(name);
  if (typeof message === 'string') expect(err.message).toBe(message);
  else if (message instanceof RegExp) expect(err.message).toMatch(message);
  expect(err.$metadata?.httpStatusCode).toBe(status);
  return err;
}

export interface RawResponse {
  status: number;
  headers: Headers;
  text: string;
  json(): any;
}

/** A raw Secrets Manager call; signed with `credentials` unless `sign` is false. */
export async function rawSecretsManager(
  emu: AwsEmulator,
  target: string,
  body: string,
  opts: {
    credentials?: Credentials;
    region?: string;
    sign?: boolean;
    headers?: Record<string, string>;
    service?: string;
    signedAt?: number;
    tamper?: (headers: Record<string, string>) => void;
  } = {},
): Promise<RawResponse> {
  const url = new URL(emu.endpoint);
  let headers: Record<string, string> = {
    'content-type': 'application/x-amz-json-1.1',
    'x-amz-target': target,
    ...opts.headers,
  };
  if (opts.sign !== false) {
    const creds: Credentials = opts.credentials ?? AKIA;
    headers = signRequest({
      host: url.host,
      headers,
      body,
      region: opts.region ?? REGION,
      service: opts.service ?? 'secretsmanager',
      accessKeyId: creds.accessKeyId,
      secretAccessKey: creds.secretAccessKey,
      ...(creds.sessionToken !== undefined ? { sessionToken: creds.sessionToken } : {}),
      ...(opts.signedAt !== undefined ? { now: opts.signedAt } : {}),
    });
  }
  opts.tamper?.(headers);
  const { host: _host, ...sendable } = headers;
  const res = await fetch(`${emu.endpoint}/`, { method: 'POST', headers: sendable, body });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: () => JSON.parse(text) };
}

/** A raw STS form post (unsigned). */
export async function rawSts(emu: AwsEmulator, form: Record<string, string>): Promise<RawResponse> {
  const res = await fetch(`${emu.endpoint}/`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form).toString(),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: () => JSON.parse(text) };
}

/** Any `null` anywhere in a JSON value (AWS omits absent members instead). */
export function findNulls(value: unknown, path = '$'): string[] {
  if (value === null) return [path];
  if (Array.isArray(value)) return value.flatMap((v, i) => findNulls(v, `${path}[${i}]`));
  if (typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => findNulls(v, `${path}.${k}`));
  return [];
}

export interface KeyPair {
  kid: string;
  alg: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

export async function makeKey(kid: string, alg: 'RS256' | 'ES256' | 'ES384' | 'RS512' = 'RS256'): Promise<KeyPair> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { kid, alg, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

/** A minimal OIDC issuer over HTTP: discovery document and JWKS, plus a token signer. */
export interface TestIssuer {
  /** e.g. http://127.0.0.1:40000 (or with a path) */
  issuer: string;
  /** The issuer without scheme, as IAM names the provider. */
  name: string;
  keys: KeyPair[];
  /** Replaces the published keys (rotation). */
  publish(keys: KeyPair[]): void;
  /** Overrides the discovery document's `issuer`. */
  discoveryIssuer?: string;
  jwksFetches: number;
  sign(claims: JWTPayload, opts?: { key?: KeyPair; kid?: string | null; alg?: string }): Promise<string>;
  close(): Promise<void>;
}

export async function startIssuer(opts: { path?: string } = {}): Promise<TestIssuer> {
  const rsa = await makeKey('rsa-1', 'RS256');
  const ec = await makeKey('ec-1', 'ES256');
  let published = [rsa, ec];
  const server = http.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const issuerUrl = `http://127.0.0.1:${port}${opts.path ?? ''}`;
  const state: TestIssuer = {
    issuer: issuerUrl,
    name: issuerUrl.replace(/^https?:\/\//, ''),
    keys: [rsa, ec],
    publish(keys) {
      published = keys;
      this.keys = keys;
    },
    jwksFetches: 0,
    async sign(claims, o = {}) {
      const key = o.key ?? rsa;
      const header: Record<string, unknown> = { alg: o.alg ?? key.alg, typ: 'JWT' };
      if (o.kid !== null) header.kid = o.kid ?? key.kid;
      return new SignJWT(claims).setProtectedHeader(header as { alg: string }).sign(key.privateKey);
    },
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
  server.on('request', (req, res) => {
    const base = opts.path ?? '';
    if (req.url === `${base}/.well-known/openid-configuration`) {
      res.setHeader('content-type', 'application/json');
      res.end(
        JSON.stringify({
          issuer: state.discoveryIssuer ?? issuerUrl,
          jwks_uri: `${issuerUrl}/keys`,
          response_types_supported: ['id_token'],
          subject_types_supported: ['public'],
          id_token_signing_alg_values_supported: ['RS256', 'ES256'],
        }),
      );
    } else if (req.url === `${base}/keys`) {
      state.jwksFetches += 1;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ keys: published.map((k) => k.publicJwk) }));
    } else {
      res.statusCode = 404;
      res.end();
    }
  });
  return state;
}

/** Standard claims for a token valid "now" on the emulator clock. */
export function claims(issuer: TestIssuer, clock: ManualClock, extra: JWTPayload = {}): JWTPayload {
  const now = Math.floor(clock() / 1000);
  return {
    iss: issuer.issuer,
    sub: 'system:serviceaccount:ferry:sync',
    aud: 'sts.amazonaws.com',
    iat: now,
    nbf: now,
    exp: now + 3600,
    ...extra,
  };
}

export const ROLE_NAME = 'ferry-sync';
export const ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/${ROLE_NAME}`;

/** Registers the issuer as a provider and a role trusting it for the standard sub and aud. */
export function trustIssuer(emu: AwsEmulator, issuer: TestIssuer, trust: { sub?: string | string[]; aud?: string } = {}): string {
  emu.registerOidcProvider({ url: issuer.issuer, clientIds: ['sts.amazonaws.com'] });
  return emu.registerRole({
    roleName: ROLE_NAME,
    trust: { provider: issuer.name, sub: trust.sub ?? 'system:serviceaccount:ferry:sync', aud: trust.aud ?? 'sts.amazonaws.com' },
  }).arn;
}

/** A client destroyed when the current test finishes. */
export function destroyAfterTest<T extends { destroy(): void }>(client: T): T {
  onTestFinished(() => client.destroy());
  return client;
}

let userKeys = 0;

/**
 * Registers an IAM user with a fresh long-term key (its secret verified) and the given inline
 * policies — none leaves it unrestricted. Returns its ARN and credentials.
 */
export function registerUser(
  emu: AwsEmulator,
  userName: string,
  inlinePolicies: Record<string, unknown> = {},
): { arn: string; credentials: Credentials } {
  userKeys += 1;
  const credentials = { accessKeyId: `AKIAIAMUSER${String(userKeys).padStart(9, '0')}`, secretAccessKey: `secret-of-${userName}` };
  const { arn } = emu.registerUser({ userName, accessKeys: [credentials], inlinePolicies });
  return { arn, credentials };
}

/** A policy document of one statement. */
export function onePolicy(statement: Record<string, unknown>): Record<string, unknown> {
  return { Version: '2012-10-17', Statement: [statement] };
}

/** AWS's identity-policy access-denied message (aws-iam-evaluation.md §5). */
export function deniedMessage(principalArn: string, action: string, resource: string, explicit = false): string {
  return `User: ${principalArn} is not authorized to perform: ${action} on resource: ${resource} ${
    explicit ? 'with an explicit deny in an identity-based policy' : `because no identity-based policy allows the ${action} action`
  }`;
}
