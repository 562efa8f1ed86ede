/**
 * Authorization of an authenticated caller: its identity policies (those of its registered user,
 * or of its session's role) evaluated for each action the call needs, every check recorded in the
 * call's log entry. A caller whose principal has no policy at all is unrestricted (allowed, not
 * evaluated), which keeps the emulator's behaviour from before it enforced IAM.
 */
import type { Caller } from './auth.js';
import { conditionKeys, evaluatePolicies } from './iam-policy.js';
import type { Iam } from './iam.js';
import { strictestDecision, type Evaluation, type LogFields } from './log.js';

/** One action a call needs, on one resource, with the request's condition keys. */
export interface AccessRequest {
  action: string;
  /** The resource ARN, or `*`. */
  resource: string;
  /** How an access-denied message names the resource (default: `resource`), e.g. the SecretId as sent. */
  shownAs?: string;
  /** Request-specific condition keys (names in any case); undefined values are absent keys. */
  keys?: ReadonlyArray<readonly [string, string | readonly string[] | undefined]>;
}

/** Global keys every request carries (aws:PrincipalArn is the role's ARN for a session, as in AWS). */
function globalKeys(caller: Caller): Array<readonly [string, string]> {
  return [
    ['aws:PrincipalArn', caller.policyHolderArn ?? caller.principalArn],
    ['aws:PrincipalAccount', caller.accountId],
    ['aws:RequestedRegion', caller.region],
  ];
}

/** The checks of one call, and the first refused one (with the resource as its message names it). */
export interface AccessOutcome {
  evaluations: Evaluation[];
  denied?: { evaluation: Evaluation; shownAs: string };
}

/** Evaluates the caller's identity policies for each request, in order. */
export function evaluateIdentity(iam: Iam, caller: Caller, requests: readonly AccessRequest[]): AccessOutcome {
  const policies = caller.policyHolderArn === undefined ? [] : iam.identityPolicies(caller.policyHolderArn);
  const evaluations = requests.map((r): Evaluation => {
    if (policies.length === 0) return { action: r.action, resource: r.resource, decision: 'allowed', basis: 'unrestricted' };
    const keys = conditionKeys([...(r.keys ?? []), ...globalKeys(caller)]);
    const result = evaluatePolicies(policies, { action: r.action, resource: r.resource, keys });
    return {
      action: r.action,
      resource: r.resource,
      decision: result.decision,
      basis: 'identityPolicy',
      ...(result.statement !== undefined ? { statement: result.statement } : {}),
    };
  });
  const at = evaluations.findIndex((e) => e.decision !== 'allowed');
  return at < 0 ? { evaluations } : { evaluations, denied: { evaluation: evaluations[at], shownAs: requests[at].shownAs ?? requests[at].resource } };
}

/** Adds evaluations to a call's log entry and updates its decision. */
export function recordEvaluations(log: LogFields, evaluations: readonly Evaluation[]): void {
  log.evaluations = [...(log.evaluations ?? []), ...evaluations];
  log.decision = strictestDecision(log.evaluations);
}

/** AWS's access-denied text for an identity-policy refusal (spec §5; wording unconfirmed). */
export function identityDeniedMessage(principalArn: string, denied: Evaluation, shownAs = denied.resource): string {
  const why =
    denied.decision === 'explicitDeny'
      ? 'with an explicit deny in an identity-based policy'
      : `because no identity-based policy allows the ${denied.action} action`;
  return `User: ${principalArn} is not authorized to perform: ${denied.action} on resource: ${shownAs} ${why}`;
}
