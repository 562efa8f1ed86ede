/**
 * A strict local AWS Secrets Manager + STS emulator for tests, demos and CI smoke runs.
 * The real AWS SDK v3 clients talk to it over HTTP (`endpoint: emu.endpoint`); see README.md.
 */
import type { AddressInfo } from 'node:net';
import { ADMIN_PREFIX } from './admin.js';
import { EmulatorCore, type EmulatorOptions, type Lags, type SecretSnapshot } from './emulator.js';
import type { FaultSpec } from './faults.js';
import type { CreatePolicyInput, PrincipalSnapshot, RegisterRoleInput, RegisterUserInput } from './iam.js';
import type { RequestLogEntry, RequestLogQuery } from './log.js';
import { createEmulatorServer } from './server.js';

export type { EmulatorOptions, Lags, SecretSnapshot } from './emulator.js';
export { DEFAULT_ACCOUNT_ID } from './emulator.js';
export type { FaultKind, FaultSpec } from './faults.js';
export type { CreatePolicyInput, IdentityPolicyInput, PrincipalSnapshot, RegisterRoleInput, RegisterUserInput, RoleTrust } from './iam.js';
export type { Decision, MatchedStatement } from './iam-policy.js';
export type { Evaluation, RequestLogEntry, RequestLogQuery, WebIdentityClaims } from './log.js';
export * as guidePolicies from './guide-policies.js';
export { DEFAULT_QUOTAS } from './quotas.js';
export { signRequest } from './sigv4.js';
export { ADMIN_PREFIX } from './admin.js';

/** A running emulator. */
export interface AwsEmulator {
  /** e.g. `http://127.0.0.1:54321` — Secrets Manager and STS both live here. */
  endpoint: string;
  /** `endpoint + /_emulator`: the HTTP admin API (README.md). */
  adminUrl: string;
  close(): Promise<void>;
  /** Emulator time (ms epoch): the injected clock plus advanceClock() offsets. */
  now(): number;
  /** Moves emulator time by `ms` (on top of the injected clock); returns the new time. */
  advanceClock(ms: number): number;
  registerOidcProvider(p: { accountId?: string; url: string; clientIds: string[] }): { arn: string };
  /** Registers (or replaces, policies included) a role; see RoleTrust and IdentityPolicyInput. */
  registerRole(r: RegisterRoleInput): { arn: string };
  /** Registers (or replaces) an IAM user, maps its access keys to it; with policies it is no longer unrestricted. */
  registerUser(u: RegisterUserInput): { arn: string; userId: string };
  /** Creates (or replaces the document of) a customer managed policy. */
  createPolicy(p: CreatePolicyInput): { arn: string };
  /** Adds or replaces an inline policy of a registered user or role (by its ARN). */
  putInlinePolicy(principalArn: string, policyName: string, document: unknown): void;
  deleteInlinePolicy(principalArn: string, policyName: string): void;
  attachPolicy(principalArn: string, policyArn: string): void;
  detachPolicy(principalArn: string, policyArn: string): void;
  /** A registered user's or role's policies, and whether it is unrestricted (has none). */
  principal(arn: string): PrincipalSnapshot | undefined;
  mapAccessKey(accessKeyId: string, secretAccessKey: string, accountId: string): void;
  injectFault(f: FaultSpec): void;
  clearFaults(): void;
  /** Every logged call, oldest first; with a query, only those it matches (RequestLogQuery). */
  requestLog(query?: RequestLogQuery): RequestLogEntry[];
  clearRequestLog(): void;
  getSecret(region: string, name: string, accountId?: string): SecretSnapshot | undefined;
  listSecretNames(region: string, accountId?: string): string[];
  setQuota(operationClass: string, perSecond: number): void;
  lags(): Lags;
  /** Sets the purge lag and/or the listing lag (emulator ms); returns both. */
  setLags(lags: Partial<Lags>): Lags;
}

export async function startAwsEmulator(opts: EmulatorOptions = {}): Promise<AwsEmulator> {
  const core = new EmulatorCore(opts);
  const server = createEmulatorServer(core);
  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  return {
    endpoint,
    adminUrl: `${endpoint}${ADMIN_PREFIX}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
    now: () => core.now(),
    advanceClock: (ms) => core.advanceClock(ms),
    registerOidcProvider: (p) => core.registerOidcProvider(p),
    registerRole: (r) => core.registerRole(r),
    registerUser: (u) => core.registerUser(u),
    createPolicy: (p) => core.createPolicy(p),
    putInlinePolicy: (principal, name, document) => core.putInlinePolicy(principal, name, document),
    deleteInlinePolicy: (principal, name) => core.deleteInlinePolicy(principal, name),
    attachPolicy: (principal, policyArn) => core.attachPolicy(principal, policyArn),
    detachPolicy: (principal, policyArn) => core.detachPolicy(principal, policyArn),
    principal: (arn) => core.principal(arn),
    mapAccessKey: (id, secret, account) => core.mapAccessKey(id, secret, account),
    injectFault: (f) => core.injectFault(f),
    clearFaults: () => core.clearFaults(),
    requestLog: (query) => core.requestLog(query),
    clearRequestLog: () => core.clearRequestLog(),
    getSecret: (region, name, accountId) => core.getSecret(region, name, accountId),
    listSecretNames: (region, accountId) => core.listSecretNames(region, accountId),
    setQuota: (cls, perSecond) => core.setQuota(cls, perSecond),
    lags: () => core.lags(),
    setLags: (lags) => core.setLags(lags),
  };
}
