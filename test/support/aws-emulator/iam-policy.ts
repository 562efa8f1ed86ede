/**
 * IAM identity-policy documents: validation on registration and evaluation of one request against
 * a principal's policies (shared/spec/aws-iam-evaluation.md). Pure: no emulator state, no I/O.
 *
 * Decision: implicit deny; any applicable Deny → explicit deny; else any applicable Allow →
 * allowed. A statement applies when its action, its resource and every condition match.
 */

export type Decision = 'allowed' | 'implicitDeny' | 'explicitDeny';

/** The operators of a condition, without set qualifier and IfExists suffix. */
const BASE_OPERATORS = [
  'StringEquals',
  'StringNotEquals',
  'StringEqualsIgnoreCase',
  'StringNotEqualsIgnoreCase',
  'StringLike',
  'StringNotLike',
  'ArnEquals',
  'ArnNotEquals',
  'ArnLike',
  'ArnNotLike',
  'Bool',
  'Null',
] as const;
type BaseOperator = (typeof BASE_OPERATORS)[number];

/** Negated operators match when the key is absent (spec §4). */
const NEGATED: ReadonlySet<BaseOperator> = new Set([
  'StringNotEquals',
  'StringNotEqualsIgnoreCase',
  'StringNotLike',
  'ArnNotEquals',
  'ArnNotLike',
]);

export interface ConditionClause {
  /** As written in the document, e.g. `ForAnyValue:StringLikeIfExists`. */
  operator: string;
  base: BaseOperator;
  qualifier?: 'ForAnyValue' | 'ForAllValues';
  ifExists: boolean;
  /** The condition key as written, and lower-cased for lookup (key names are case-insensitive). */
  keyAsWritten: string;
  key: string;
  /** Policy values, as strings (JSON booleans and numbers are compared as their text). */
  values: string[];
}

export interface PolicyStatement {
  sid?: string;
  effect: 'Allow' | 'Deny';
  action?: string[];
  notAction?: string[];
  resource?: string[];
  notResource?: string[];
  conditions: ConditionClause[];
}

/** A validated policy document. */
export interface ParsedPolicy {
  version?: string;
  statements: PolicyStatement[];
}

/** A policy of a principal, named for the log: an inline policy's name or a managed policy's ARN. */
export interface NamedPolicy {
  name: string;
  statements: PolicyStatement[];
}

/**
 * Condition keys of a request, lower-cased; a key has one value or several (`aws:TagKeys`).
 * A key missing from the map — or present with no value — is absent.
 */
export type ConditionKeys = ReadonlyMap<string, readonly string[]>;

export interface RequestContext {
  /** `service:Operation`, e.g. `secretsmanager:CreateSecret`. */
  action: string;
  /** The resource ARN, or `*` for actions without a resource. */
  resource: string;
  keys: ConditionKeys;
}

export interface MatchedStatement {
  policy: string;
  /** Position in the policy's Statement list (0-based; a single statement object is index 0). */
  index: number;
  sid?: string;
}

export interface EvaluationResult {
  decision: Decision;
  /** The statement that decided: the first applicable Deny, else the first applicable Allow. */
  statement?: MatchedStatement;
}

/** A document IAM would refuse (MalformedPolicyDocument); the message says where and why. */
export class PolicyDocumentError extends Error {
  constructor(message: string) {
    super(`MalformedPolicyDocument: ${message}`);
    this.name = 'PolicyDocumentError';
  }
}

const VERSIONS = ['2012-10-17', '2008-10-17'];
const DOCUMENT_ELEMENTS = new Set(['Version', 'Id', 'Statement']);
const STATEMENT_ELEMENTS = new Set(['Sid', 'Effect', 'Action', 'NotAction', 'Resource', 'NotResource', 'Condition', 'Principal', 'NotPrincipal']);
const ACTION = /^(\*|[A-Za-z0-9-]+:[A-Za-z0-9*?]*)$/;
const SID = /^[A-Za-z0-9]*$/;
const OPERATOR = new RegExp(`^(?:(ForAnyValue|ForAllValues):)?(${BASE_OPERATORS.join('|')})(IfExists)?$`, 'i');

/** Glob match with `*` (any run, including none) and `?` (one character), over the whole value. */
export function globMatch(pattern: string, value: string, ignoreCase = false): boolean {
  const re = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${re}$`, ignoreCase ? 'is' : 's').test(value);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** A string-or-list element: a string, or a non-empty list of strings. */
function stringList(value: unknown, where: string): string[] {
  const list = Array.isArray(value) ? value : [value];
  if (list.length === 0) throw new PolicyDocumentError(`${where} must not be an empty list`);
  for (const item of list) {
    if (typeof item !== 'string' || item === '') throw new PolicyDocumentError(`${where} must be a non-empty string or a list of them`);
  }
  return list as string[];
}

function parseActions(value: unknown, where: string): string[] {
  const actions = stringList(value, where);
  for (const a of actions) {
    if (!ACTION.test(a)) throw new PolicyDocumentError(`${where}: "${a}" must be "*" or "service:Operation" (wildcards * and ? allowed)`);
  }
  return actions;
}

function parseResources(value: unknown, where: string): string[] {
  const resources = stringList(value, where);
  for (const r of resources) {
    if (r !== '*' && !r.startsWith('arn:')) throw new PolicyDocumentError(`${where}: "${r}" must be an ARN or "*"`);
  }
  return resources;
}

function conditionValues(value: unknown, where: string): string[] {
  const list = Array.isArray(value) ? value : [value];
  if (list.length === 0) throw new PolicyDocumentError(`${where} must not be an empty list`);
  return list.map((v) => {
    if (typeof v === 'string') return v;
    if (typeof v === 'boolean' || typeof v === 'number') return String(v);
    throw new PolicyDocumentError(`${where} values must be strings, booleans or numbers`);
  });
}

function parseCondition(value: unknown, where: string): ConditionClause[] {
  if (!isPlainObject(value)) throw new PolicyDocumentError(`${where} must be an object of operator → {key: value(s)}`);
  const clauses: ConditionClause[] = [];
  for (const [operator, block] of Object.entries(value)) {
    const m = OPERATOR.exec(operator);
    if (m === null) {
      throw new PolicyDocumentError(
        `${where}: unsupported condition operator "${operator}" (the emulator knows ${BASE_OPERATORS.join(', ')}, their IfExists forms and the ForAnyValue:/ForAllValues: qualifiers)`,
      );
    }
    const base = BASE_OPERATORS.find((b) => b.toLowerCase() === m[2].toLowerCase())!;
    const qualifier = m[1] === undefined ? undefined : m[1].toLowerCase() === 'foranyvalue' ? 'ForAnyValue' : 'ForAllValues';
    const ifExists = m[3] !== undefined;
    if (base === 'Null' && (ifExists || qualifier !== undefined)) {
      throw new PolicyDocumentError(`${where}: "${operator}": Null takes neither IfExists nor a set qualifier`);
    }
    if (!isPlainObject(block) || Object.keys(block).length === 0) {
      throw new PolicyDocumentError(`${where}.${operator} must be a non-empty object of condition key → value(s)`);
    }
    for (const [key, raw] of Object.entries(block)) {
      if (!/^[A-Za-z0-9-]+:./.test(key)) throw new PolicyDocumentError(`${where}.${operator}: condition key "${key}" must be prefixed by a service, e.g. aws: or secretsmanager:`);
      const values = conditionValues(raw, `${where}.${operator}.${key}`);
      if ((base === 'Null' || base === 'Bool') && values.some((v) => !['true', 'false'].includes(v.toLowerCase()))) {
        throw new PolicyDocumentError(`${where}.${operator}.${key}: ${base} takes "true" or "false"`);
      }
      clauses.push({ operator, base, qualifier, ifExists, keyAsWritten: key, key: key.toLowerCase(), values });
    }
  }
  return clauses;
}

function parseStatement(raw: unknown, where: string): PolicyStatement {
  if (!isPlainObject(raw)) throw new PolicyDocumentError(`${where} must be an object`);
  for (const element of Object.keys(raw)) {
    if (!STATEMENT_ELEMENTS.has(element)) throw new PolicyDocumentError(`${where}: unknown element "${element}"`);
  }
  if (raw.Principal !== undefined || raw.NotPrincipal !== undefined) {
    throw new PolicyDocumentError(`${where}: an identity-based policy must not specify a Principal or NotPrincipal`);
  }
  if (raw.Sid !== undefined && (typeof raw.Sid !== 'string' || !SID.test(raw.Sid))) {
    throw new PolicyDocumentError(`${where}.Sid must be a string of letters and digits`);
  }
  if (raw.Effect !== 'Allow' && raw.Effect !== 'Deny') throw new PolicyDocumentError(`${where}.Effect must be "Allow" or "Deny"`);
  if ((raw.Action === undefined) === (raw.NotAction === undefined)) {
    throw new PolicyDocumentError(`${where} must have exactly one of Action and NotAction`);
  }
  if ((raw.Resource === undefined) === (raw.NotResource === undefined)) {
    throw new PolicyDocumentError(`${where} must have exactly one of Resource and NotResource`);
  }
  const statement: PolicyStatement = {
    effect: raw.Effect,
    conditions: raw.Condition === undefined ? [] : parseCondition(raw.Condition, `${where}.Condition`),
  };
  if (typeof raw.Sid === 'string' && raw.Sid !== '') statement.sid = raw.Sid;
  if (raw.Action !== undefined) statement.action = parseActions(raw.Action, `${where}.Action`);
  else statement.notAction = parseActions(raw.NotAction, `${where}.NotAction`);
  if (raw.Resource !== undefined) statement.resource = parseResources(raw.Resource, `${where}.Resource`);
  else statement.notResource = parseResources(raw.NotResource, `${where}.NotResource`);
  return statement;
}

/**
 * Validates an identity-policy document, given as a JSON string (as IAM takes it) or as an object.
 * `Version` may be omitted (IAM then assumes 2008-10-17); `Statement` is one statement object or a
 * non-empty list of them. Throws PolicyDocumentError naming the offending element.
 */
export function parsePolicyDocument(document: unknown): ParsedPolicy {
  let doc = document;
  if (typeof doc === 'string') {
    try {
      doc = JSON.parse(doc);
    } catch {
      throw new PolicyDocumentError('the policy is not valid JSON');
    }
  }
  if (!isPlainObject(doc)) throw new PolicyDocumentError('the policy must be a JSON object');
  for (const element of Object.keys(doc)) {
    if (!DOCUMENT_ELEMENTS.has(element)) throw new PolicyDocumentError(`unknown top-level element "${element}" (expected Version, Id, Statement)`);
  }
  if (doc.Version !== undefined && (typeof doc.Version !== 'string' || !VERSIONS.includes(doc.Version))) {
    throw new PolicyDocumentError(`Version must be "2012-10-17" (or the legacy "2008-10-17"), not ${JSON.stringify(doc.Version)}`);
  }
  if (doc.Id !== undefined && typeof doc.Id !== 'string') throw new PolicyDocumentError('Id must be a string');
  if (doc.Statement === undefined) throw new PolicyDocumentError('Statement is required');
  const raw = Array.isArray(doc.Statement) ? doc.Statement : [doc.Statement];
  if (raw.length === 0) throw new PolicyDocumentError('Statement must hold at least one statement');
  const statements = raw.map((s, i) => parseStatement(s, `Statement[${i}]`));
  const sids = statements.map((s) => s.sid).filter((s): s is string => s !== undefined);
  const duplicate = sids.find((s, i) => sids.indexOf(s) !== i);
  if (duplicate !== undefined) throw new PolicyDocumentError(`Statement IDs (Sid) must be unique within a policy: "${duplicate}" repeats`);
  const parsed: ParsedPolicy = { statements };
  if (typeof doc.Version === 'string') parsed.version = doc.Version;
  return parsed;
}

/** The positive form of an operator compares one request value with one policy value. */
function positiveMatch(base: BaseOperator, requestValue: string, policyValue: string): boolean {
  switch (base) {
    case 'StringEquals':
    case 'StringNotEquals':
    case 'ArnEquals':
    case 'ArnNotEquals':
      return requestValue === policyValue;
    case 'StringEqualsIgnoreCase':
    case 'StringNotEqualsIgnoreCase':
      return requestValue.toLowerCase() === policyValue.toLowerCase();
    case 'StringLike':
    case 'StringNotLike':
    case 'ArnLike':
    case 'ArnNotLike':
      return globMatch(policyValue, requestValue);
    case 'Bool':
      return requestValue.toLowerCase() === policyValue.toLowerCase();
    case 'Null':
      return false; // handled before
  }
}

/**
 * One condition key of one operator. Policy values are OR-ed; a negated operator matches when no
 * policy value matches. Absent key: `Null` compares presence; `…IfExists` and `ForAllValues:`
 * match; `ForAnyValue:` and positive operators do not; negated operators do (spec §4).
 */
export function clauseMatches(clause: ConditionClause, keys: ConditionKeys): boolean {
  const present = keys.get(clause.key);
  const requestValues = present !== undefined && present.length > 0 ? present : undefined;
  if (clause.base === 'Null') {
    return clause.values.some((v) => (v.toLowerCase() === 'true') === (requestValues === undefined));
  }
  const negated = NEGATED.has(clause.base);
  if (requestValues === undefined) {
    if (clause.ifExists || clause.qualifier === 'ForAllValues') return true;
    if (clause.qualifier === 'ForAnyValue') return false;
    return negated;
  }
  const hit = (r: string) => clause.values.some((p) => positiveMatch(clause.base, r, p));
  const single = (r: string) => (negated ? !hit(r) : hit(r));
  if (clause.qualifier === 'ForAllValues') return requestValues.every(single);
  if (clause.qualifier === 'ForAnyValue') return requestValues.some(single);
  // No qualifier on a multi-valued key (chosen): a positive operator matches when any request value
  // does, a negated one when none does — the negation of the positive form.
  return negated ? !requestValues.some(hit) : requestValues.some(hit);
}

/** Does the statement apply to the request (action, resource and every condition match)? */
export function statementApplies(statement: PolicyStatement, request: RequestContext): boolean {
  const actionHit = (patterns: string[]) => patterns.some((p) => globMatch(p, request.action, true));
  const resourceHit = (patterns: string[]) => patterns.some((p) => p === '*' || globMatch(p, request.resource));
  const actionOk = statement.action !== undefined ? actionHit(statement.action) : !actionHit(statement.notAction!);
  if (!actionOk) return false;
  const resourceOk = statement.resource !== undefined ? resourceHit(statement.resource) : !resourceHit(statement.notResource!);
  if (!resourceOk) return false;
  return statement.conditions.every((c) => clauseMatches(c, request.keys));
}

/** Evaluates one request against every statement of every policy of a principal. */
export function evaluatePolicies(policies: readonly NamedPolicy[], request: RequestContext): EvaluationResult {
  let allow: MatchedStatement | undefined;
  for (const policy of policies) {
    for (const [index, statement] of policy.statements.entries()) {
      if (!statementApplies(statement, request)) continue;
      const matched: MatchedStatement = { policy: policy.name, index, ...(statement.sid !== undefined ? { sid: statement.sid } : {}) };
      if (statement.effect === 'Deny') return { decision: 'explicitDeny', statement: matched };
      allow ??= matched;
    }
  }
  return allow !== undefined ? { decision: 'allowed', statement: allow } : { decision: 'implicitDeny' };
}

/** Builds condition keys from pairs, lower-casing names; a later duplicate of a key is ignored. */
export function conditionKeys(entries: Iterable<readonly [string, string | readonly string[] | undefined]>): Map<string, readonly string[]> {
  const keys = new Map<string, readonly string[]>();
  for (const [name, value] of entries) {
    if (value === undefined) continue;
    const key = name.toLowerCase();
    if (!keys.has(key)) keys.set(key, typeof value === 'string' ? [value] : value);
  }
  return keys;
}
