/**
 * The request log a test can read (operation, secret, token, time, outcome, and the IAM decision
 * taken on the call), and the query that filters it.
 */
import { globMatch, type Decision, type MatchedStatement } from './iam-policy.js';

/** Claims of the web identity token an AssumeRoleWithWebIdentity call presented (unverified). */
export interface WebIdentityClaims {
  sub: string;
  aud: string | string[];
  iss: string;
  iat: number;
  exp: number;
  kid?: string;
}

/**
 * What decided one action on one resource:
 * - `identityPolicy`: the principal's identity policies were evaluated (`statement` is the deciding
 *   one: the first applicable Deny, else the first applicable Allow; none on an implicit deny);
 * - `unrestricted`: the principal has no identity policy at all, so the call is allowed unevaluated;
 * - `trustPolicy`: a role's trust policy (AssumeRole, AssumeRoleWithWebIdentity);
 * - `alwaysAllowed`: `sts:GetCallerIdentity`, which no policy can deny.
 */
export interface Evaluation {
  action: string;
  resource: string;
  decision: Decision;
  basis: 'identityPolicy' | 'unrestricted' | 'trustPolicy' | 'alwaysAllowed';
  statement?: MatchedStatement;
}

export interface RequestLogEntry {
  /** Emulator clock, ms epoch. */
  time: number;
  service: 'secretsmanager' | 'sts';
  operation: string;
  accountId?: string;
  region?: string;
  secretId?: string;
  clientRequestToken?: string;
  accessKeyId?: string;
  /** The authenticated caller (IAM user or assumed-role session ARN); absent if authentication failed or for unsigned calls. */
  principalArn?: string;
  /**
   * The IAM actions the call needs, known from its operation and body whether or not it got as far
   * as authorization (e.g. `CreateSecret` with `Tags` → CreateSecret and TagResource).
   */
  actions: string[];
  /** The strictest decision of `evaluations` (explicitDeny > implicitDeny > allowed); absent when none ran. */
  decision?: Decision;
  /** Every authorization check made for the call, in order. */
  evaluations?: Evaluation[];
  /** HTTP status answered; 0 when the connection was reset instead. */
  status: number;
  /** Real milliseconds a `latency` fault held the call before it was handled (absent when none did). */
  delayedMs?: number;
  errorCode?: string;
  webIdentity?: WebIdentityClaims;
  requestId?: string;
  /** From `amz-sdk-request: attempt=N; max=M` and `amz-sdk-invocation-id` (constant across SDK retries). */
  sdkAttempt?: number;
  sdkInvocationId?: string;
}

/** What a service handler knows about a call, for its log entry. */
export type LogFields = Omit<RequestLogEntry, 'time' | 'status' | 'service' | 'requestId' | 'sdkAttempt' | 'sdkInvocationId' | 'actions'>;

/** A service's answer to one call. */
export interface ServiceReply {
  status: number;
  headers: Record<string, string>;
  body: string;
  log: LogFields;
}

/**
 * A filter over the request log; every given criterion must hold (AND), a list means any of.
 * Action patterns are IAM action patterns (case-insensitive, `*` and `?`).
 */
export interface RequestLogQuery {
  service?: 'secretsmanager' | 'sts';
  operation?: string | readonly string[];
  principalArn?: string;
  /** `denied` = implicitDeny or explicitDeny. Entries without a decision never match. */
  decision?: Decision | 'denied';
  /** Entries with at least one needed action matching one of these patterns. */
  action?: string | readonly string[];
  /** Entries with at least one needed action matching none of these patterns ("calls outside"). */
  notAction?: string | readonly string[];
  errorCode?: string | readonly string[];
  /** Entries at or after this emulator time (ms). */
  since?: number;
}

const list = (v: string | readonly string[] | undefined): readonly string[] | undefined => (v === undefined ? undefined : typeof v === 'string' ? [v] : v);

/** Strictest first: a log entry's decision is the worst of its evaluations. */
export function strictestDecision(evaluations: readonly Evaluation[]): Decision | undefined {
  if (evaluations.length === 0) return undefined;
  if (evaluations.some((e) => e.decision === 'explicitDeny')) return 'explicitDeny';
  if (evaluations.some((e) => e.decision === 'implicitDeny')) return 'implicitDeny';
  return 'allowed';
}

export function matchesLogQuery(entry: RequestLogEntry, query: RequestLogQuery): boolean {
  const hits = (patterns: readonly string[], action: string) => patterns.some((p) => globMatch(p, action, true));
  const operations = list(query.operation);
  const actions = list(query.action);
  const notActions = list(query.notAction);
  const errorCodes = list(query.errorCode);
  if (query.service !== undefined && entry.service !== query.service) return false;
  if (operations !== undefined && !operations.includes(entry.operation)) return false;
  if (query.principalArn !== undefined && entry.principalArn !== query.principalArn) return false;
  if (query.decision !== undefined) {
    if (entry.decision === undefined) return false;
    if (query.decision === 'denied' ? entry.decision === 'allowed' : entry.decision !== query.decision) return false;
  }
  if (actions !== undefined && !entry.actions.some((a) => hits(actions, a))) return false;
  if (notActions !== undefined && !entry.actions.some((a) => !hits(notActions, a))) return false;
  if (errorCodes !== undefined && (entry.errorCode === undefined || !errorCodes.includes(entry.errorCode))) return false;
  if (query.since !== undefined && entry.time < query.since) return false;
  return true;
}
