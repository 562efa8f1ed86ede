/**
 * The pure IAM evaluator (support/aws-emulator/iam-policy.ts) against aws-iam-evaluation.md:
 * document validation, the decision order, action and resource matching, every condition operator
 * with present and absent keys.
 */
import { describe, expect, it } from 'vitest';
import { MINIMAL, OUT_OF_BAND_DENY, TAG_CONDITIONED_SYNC } from '../support/aws-emulator/guide-policies.js';
import {
  conditionKeys,
  evaluatePolicies,
  globMatch,
  parsePolicyDocument,
  PolicyDocumentError,
  type NamedPolicy,
} from '../support/aws-emulator/iam-policy.js';

const VAULT_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:vault/kv/app-AbC123';
const PROD_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/vault-Zz9999';

function policy(document: unknown, name = 'p'): NamedPolicy {
  return { name, statements: parsePolicyDocument(document).statements };
}

function allow(statement: Record<string, unknown>, name = 'p'): NamedPolicy {
  return policy({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', ...statement }] }, name);
}

function decide(policies: NamedPolicy[], action: string, resource: string, keys: Record<string, string | string[]> = {}) {
  return evaluatePolicies(policies, { action, resource, keys: conditionKeys(Object.entries(keys)) });
}

function expectMalformed(document: unknown, message: string | RegExp): void {
  let error: unknown;
  try {
    parsePolicyDocument(document);
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(PolicyDocumentError);
  expect((error as Error).message).toMatch(message);
}

describe('policy documents are validated on registration', () => {
  it('accepts a JSON string or an object, one statement or a list, Version absent or 2012-10-17', () => {
    expect(parsePolicyDocument(JSON.stringify(MINIMAL)).statements).toHaveLength(1);
    expect(parsePolicyDocument({ Statement: { Effect: 'Deny', Action: '*', Resource: '*' } })).toEqual({
      statements: [{ effect: 'Deny', action: ['*'], resource: ['*'], conditions: [] }],
    });
    expect(parsePolicyDocument(TAG_CONDITIONED_SYNC).version).toBe('2012-10-17');
  });

  it.each([
    ['not JSON', '{"Statement": [', /not valid JSON/],
    ['not an object', [], /must be a JSON object/],
    ['a wrong Version', { Version: '2012-10-18', Statement: [] }, /Version must be "2012-10-17"/],
    ['no Statement', { Version: '2012-10-17' }, /Statement is required/],
    ['an empty Statement list', { Version: '2012-10-17', Statement: [] }, /at least one statement/],
    ['an unknown top-level element', { Version: '2012-10-17', Statement: [], Statements: [] }, /unknown top-level element "Statements"/],
    ['a wrong Effect', { Statement: [{ Effect: 'allow', Action: '*', Resource: '*' }] }, /Statement\[0\]\.Effect must be "Allow" or "Deny"/],
    ['both Action and NotAction', { Statement: [{ Effect: 'Allow', Action: '*', NotAction: 's3:*', Resource: '*' }] }, /exactly one of Action and NotAction/],
    ['no Resource', { Statement: [{ Effect: 'Allow', Action: '*' }] }, /exactly one of Resource and NotResource/],
    ['a Principal', { Statement: [{ Effect: 'Allow', Principal: '*', Action: '*', Resource: '*' }] }, /must not specify a Principal/],
    ['an action without service', { Statement: [{ Effect: 'Allow', Action: 'CreateSecret', Resource: '*' }] }, /"CreateSecret" must be "\*" or "service:Operation"/],
    ['a resource that is no ARN', { Statement: [{ Effect: 'Allow', Action: '*', Resource: 'vault*' }] }, /"vault\*" must be an ARN or "\*"/],
    ['an empty Action list', { Statement: [{ Effect: 'Allow', Action: [], Resource: '*' }] }, /Action must not be an empty list/],
    ['an unknown operator', { Statement: [{ Effect: 'Allow', Action: '*', Resource: '*', Condition: { NumericLessThan: { 'aws:x': '1' } } }] }, /unsupported condition operator "NumericLessThan"/],
    ['Null with IfExists', { Statement: [{ Effect: 'Allow', Action: '*', Resource: '*', Condition: { NullIfExists: { 'aws:x': 'true' } } }] }, /Null takes neither IfExists/],
    ['Bool with a non-boolean', { Statement: [{ Effect: 'Allow', Action: '*', Resource: '*', Condition: { Bool: { 'aws:x': 'yes' } } }] }, /Bool takes "true" or "false"/],
    ['a condition key without service', { Statement: [{ Effect: 'Allow', Action: '*', Resource: '*', Condition: { StringEquals: { tag: 'x' } } }] }, /must be prefixed by a service/],
    ['a duplicate Sid', { Statement: [{ Sid: 'A', Effect: 'Allow', Action: '*', Resource: '*' }, { Sid: 'A', Effect: 'Deny', Action: '*', Resource: '*' }] }, /Sid\) must be unique.*"A"/],
    ['a Sid with punctuation', { Statement: [{ Sid: 'a-b', Effect: 'Allow', Action: '*', Resource: '*' }] }, /Sid must be a string of letters and digits/],
  ])('refuses %s', (_what, document, message) => {
    expectMalformed(document, message);
  });
});

describe('decision: implicit deny, then explicit deny wins, then allow', () => {
  it('denies implicitly when no statement applies, and with no policy at all', () => {
    expect(decide([allow({ Action: 'secretsmanager:GetSecretValue', Resource: '*' })], 'secretsmanager:PutSecretValue', VAULT_ARN)).toEqual({
      decision: 'implicitDeny',
    });
    expect(decide([], 'secretsmanager:GetSecretValue', VAULT_ARN)).toEqual({ decision: 'implicitDeny' });
  });

  it('an applicable Deny wins over any Allow, in whatever policy or position', () => {
    const allowAll = allow({ Sid: 'All', Action: '*', Resource: '*' }, 'allow-all');
    const deny = policy({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:*', Resource: '*' }, { Sid: 'NoPut', Effect: 'Deny', Action: 'secretsmanager:PutSecretValue', Resource: '*' }] }, 'deny-put');
    for (const order of [[allowAll, deny], [deny, allowAll]]) {
      expect(decide(order, 'secretsmanager:PutSecretValue', VAULT_ARN)).toEqual({
        decision: 'explicitDeny',
        statement: { policy: 'deny-put', index: 1, sid: 'NoPut' },
      });
      expect(decide(order, 'secretsmanager:GetSecretValue', VAULT_ARN)).toEqual({
        decision: 'allowed',
        statement: { policy: 'allow-all', index: 0, sid: 'All' },
      });
    }
  });

  it('reports the first applicable Allow, by index when it has no Sid', () => {
    const p = policy({ Statement: [{ Effect: 'Allow', Action: 's3:*', Resource: '*' }, { Effect: 'Allow', Action: 'secretsmanager:*', Resource: '*' }] }, 'two');
    expect(decide([p], 'secretsmanager:ListSecrets', '*')).toEqual({ decision: 'allowed', statement: { policy: 'two', index: 1 } });
  });
});

describe('actions: case-insensitive, * and ?', () => {
  it.each([
    ['secretsmanager:Create*', 'secretsmanager:CreateSecret', true],
    ['secretsmanager:create*', 'secretsmanager:CreateSecret', true],
    ['SecretsManager:CREATESECRET', 'secretsmanager:CreateSecret', true],
    ['secretsmanager:Create*', 'secretsmanager:PutSecretValue', false],
    ['secretsmanager:Update*', 'secretsmanager:UpdateSecretVersionStage', true],
    ['secretsmanager:*', 'sts:AssumeRole', false],
    ['*', 'sts:AssumeRole', true],
    ['secretsmanager:?etSecretValue', 'secretsmanager:GetSecretValue', true],
    ['secretsmanager:?etSecretValue', 'secretsmanager:PutSecretValue', false],
    ['secretsmanager:???SecretValue', 'secretsmanager:PutSecretValue', true],
    ['secretsmanager:?SecretValue', 'secretsmanager:GetSecretValue', false],
  ])('%s against %s → %s', (pattern, action, allowed) => {
    expect(decide([allow({ Action: pattern, Resource: '*' })], action, VAULT_ARN).decision).toBe(allowed ? 'allowed' : 'implicitDeny');
  });

  it('NotAction applies to every action not listed', () => {
    const p = allow({ NotAction: ['secretsmanager:Delete*', 'secretsmanager:PutSecretValue'], Resource: '*' });
    expect(decide([p], 'secretsmanager:CreateSecret', VAULT_ARN).decision).toBe('allowed');
    expect(decide([p], 'secretsmanager:DeleteSecret', VAULT_ARN).decision).toBe('implicitDeny');
    expect(decide([p], 'secretsmanager:putsecretvalue', VAULT_ARN).decision).toBe('implicitDeny');
  });
});

describe('resources: case-sensitive ARNs with * and ?', () => {
  it('the guide minimal policy covers vault* names and nothing else', () => {
    const minimal = policy(MINIMAL);
    expect(decide([minimal], 'secretsmanager:CreateSecret', VAULT_ARN).decision).toBe('allowed');
    expect(decide([minimal], 'secretsmanager:CreateSecret', PROD_ARN).decision).toBe('implicitDeny');
    expect(decide([minimal], 'secretsmanager:CreateSecret', VAULT_ARN.replace('secret:vault', 'secret:Vault')).decision).toBe('implicitDeny');
    expect(decide([minimal], 'secretsmanager:ListSecrets', '*').decision).toBe('implicitDeny');
    expect(decide([minimal], 'secretsmanager:PutSecretValue', VAULT_ARN).decision).toBe('implicitDeny');
  });

  it('? stands for one character, as in the ARN suffix pattern', () => {
    const p = allow({ Action: '*', Resource: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:vault/kv/app-??????' });
    expect(decide([p], 'secretsmanager:GetSecretValue', VAULT_ARN).decision).toBe('allowed');
    expect(decide([p], 'secretsmanager:GetSecretValue', `${VAULT_ARN}x`).decision).toBe('implicitDeny');
  });

  it('"*" matches every resource, including "*"; NotResource applies to the others', () => {
    expect(decide([allow({ Action: '*', Resource: '*' })], 'secretsmanager:ListSecrets', '*').decision).toBe('allowed');
    const p = allow({ Action: '*', NotResource: 'arn:aws:secretsmanager:*:*:secret:prod/*' });
    expect(decide([p], 'secretsmanager:GetSecretValue', VAULT_ARN).decision).toBe('allowed');
    expect(decide([p], 'secretsmanager:GetSecretValue', PROD_ARN).decision).toBe('implicitDeny');
  });

  it('globMatch is anchored and escapes regular-expression characters', () => {
    expect(globMatch('a.b', 'axb')).toBe(false);
    expect(globMatch('a+b(c)', 'a+b(c)')).toBe(true);
    expect(globMatch('vault*', 'prod/vault')).toBe(false);
  });
});

describe('conditions', () => {
  const TAG = 'secretsmanager:ResourceTag/hashicorp:vault';
  const cond = (condition: Record<string, unknown>) => allow({ Action: '*', Resource: '*', Condition: condition });
  const check = (condition: Record<string, unknown>, keys: Record<string, string | string[]>) =>
    decide([cond(condition)], 'secretsmanager:GetSecretValue', VAULT_ARN, keys).decision === 'allowed';

  // [operator, policy value, request value that matches, request value that does not, absent key matches?]
  it.each([
    ['StringEquals', 'Prod', 'Prod', 'prod', false],
    ['StringNotEquals', 'Prod', 'prod', 'Prod', true],
    ['StringEqualsIgnoreCase', 'Prod', 'pROD', 'dev', false],
    ['StringNotEqualsIgnoreCase', 'Prod', 'dev', 'PROD', true],
    ['StringLike', 'team-*', 'team-a', 'Team-a', false],
    ['StringNotLike', 'team-*', 'ops', 'team-b', true],
    ['ArnLike', 'arn:aws:iam::*:role/ferry-*', 'arn:aws:iam::1:role/ferry-sync', 'arn:aws:iam::1:role/other', false],
    ['Bool', 'true', 'TRUE', 'false', false],
    ['StringEqualsIfExists', 'Prod', 'Prod', 'dev', true],
    ['StringNotEqualsIfExists', 'Prod', 'dev', 'Prod', true],
    ['StringLikeIfExists', 'team-*', 'team-a', 'ops', true],
  ])('%s %s: a matching value, another value, an absent key', (operator, value, good, bad, absentMatches) => {
    const condition = { [operator]: { 'aws:ResourceTag/env': value } };
    expect(check(condition, { 'aws:ResourceTag/env': good })).toBe(true);
    expect(check(condition, { 'aws:ResourceTag/env': bad })).toBe(false);
    expect(check(condition, {})).toBe(absentMatches);
  });

  it('Null "true" matches an absent key, "false" a present one (even when empty)', () => {
    expect(check({ Null: { 'aws:RequestTag/env': 'true' } }, {})).toBe(true);
    expect(check({ Null: { 'aws:RequestTag/env': 'true' } }, { 'aws:RequestTag/env': '' })).toBe(false);
    expect(check({ Null: { 'aws:RequestTag/env': 'false' } }, { 'aws:RequestTag/env': '' })).toBe(true);
    expect(check({ Null: { 'aws:RequestTag/env': false } }, {})).toBe(false);
  });

  it('the guide Deny: StringEquals "" hits tagged secrets only, StringNotEquals "" the untagged ones only', () => {
    const allowAll = allow({ Action: '*', Resource: '*' });
    const denyWith = (operator: string) =>
      policy({ Statement: [{ Effect: 'Deny', Action: 'secretsmanager:*', Resource: '*', Condition: { [operator]: { [TAG]: '' } } }] });
    const tagged = { [TAG]: '' };
    const run = (operator: string, keys: Record<string, string>) => decide([allowAll, denyWith(operator)], 'secretsmanager:PutSecretValue', VAULT_ARN, keys).decision;
    expect(run('StringEquals', tagged)).toBe('explicitDeny');
    expect(run('StringEquals', {})).toBe('allowed');
    expect(run('StringNotEquals', tagged)).toBe('allowed');
    expect(run('StringNotEquals', {})).toBe('explicitDeny');
    expect(decide([allowAll, policy(OUT_OF_BAND_DENY)], 'secretsmanager:PutSecretValue', VAULT_ARN, tagged)).toEqual({
      decision: 'explicitDeny',
      statement: { policy: 'p', index: 0, sid: 'KeepOffSyncedSecrets' },
    });
  });

  it('the tag-conditioned sync pair: create on vault* names, anything else only on tagged secrets', () => {
    const pair = [policy(TAG_CONDITIONED_SYNC)];
    expect(decide(pair, 'secretsmanager:CreateSecret', VAULT_ARN).decision).toBe('allowed');
    expect(decide(pair, 'secretsmanager:CreateSecret', PROD_ARN).decision).toBe('implicitDeny');
    expect(decide(pair, 'secretsmanager:UpdateSecret', VAULT_ARN).decision).toBe('implicitDeny');
    expect(decide(pair, 'secretsmanager:UpdateSecret', PROD_ARN, { [TAG]: '' })).toEqual({
      decision: 'allowed',
      statement: { policy: 'p', index: 1, sid: 'OnlyTaggedSecrets' },
    });
    expect(decide(pair, 'secretsmanager:UpdateSecret', VAULT_ARN, { [TAG]: 'x' }).decision).toBe('implicitDeny');
  });

  it('keys are case-insensitive, values case-sensitive', () => {
    expect(check({ StringEquals: { 'AWS:RESOURCETAG/Env': 'Prod' } }, { 'aws:resourcetag/env': 'Prod' })).toBe(true);
    expect(check({ StringEquals: { 'aws:ResourceTag/env': 'Prod' } }, { 'aws:ResourceTag/ENV': 'PROD' })).toBe(false);
  });

  it('AND across operators and keys, OR across the values of a key', () => {
    const condition = {
      StringEquals: { 'aws:ResourceTag/env': ['dev', 'test'], 'aws:ResourceTag/team': 'a' },
      StringLike: { 'secretsmanager:SecretId': 'vault*' },
    };
    expect(check(condition, { 'aws:ResourceTag/env': 'test', 'aws:ResourceTag/team': 'a', 'secretsmanager:SecretId': 'vault/x' })).toBe(true);
    expect(check(condition, { 'aws:ResourceTag/env': 'dev', 'aws:ResourceTag/team': 'a', 'secretsmanager:SecretId': 'vault/x' })).toBe(true);
    expect(check(condition, { 'aws:ResourceTag/env': 'prod', 'aws:ResourceTag/team': 'a', 'secretsmanager:SecretId': 'vault/x' })).toBe(false);
    expect(check(condition, { 'aws:ResourceTag/env': 'dev', 'aws:ResourceTag/team': 'b', 'secretsmanager:SecretId': 'vault/x' })).toBe(false);
    expect(check(condition, { 'aws:ResourceTag/env': 'dev', 'aws:ResourceTag/team': 'a', 'secretsmanager:SecretId': 'prod/x' })).toBe(false);
  });

  it('a negated operator with several values matches only when the key equals none of them', () => {
    const condition = { StringNotEquals: { 'aws:ResourceTag/env': ['dev', 'test'] } };
    expect(check(condition, { 'aws:ResourceTag/env': 'prod' })).toBe(true);
    expect(check(condition, { 'aws:ResourceTag/env': 'test' })).toBe(false);
  });

  describe('set qualifiers on the multi-valued aws:TagKeys', () => {
    it('ForAllValues: every request value must match; an absent key matches', () => {
      const condition = { 'ForAllValues:StringEquals': { 'aws:TagKeys': ['hashicorp:vault', 'owner'] } };
      expect(check(condition, { 'aws:TagKeys': ['hashicorp:vault'] })).toBe(true);
      expect(check(condition, { 'aws:TagKeys': ['hashicorp:vault', 'owner'] })).toBe(true);
      expect(check(condition, { 'aws:TagKeys': ['hashicorp:vault', 'extra'] })).toBe(false);
      expect(check(condition, {})).toBe(true);
      expect(check(condition, { 'aws:TagKeys': [] })).toBe(true);
    });

    it('ForAnyValue: at least one request value must match; an absent key does not match', () => {
      const condition = { 'ForAnyValue:StringLike': { 'aws:TagKeys': 'hashicorp:*' } };
      expect(check(condition, { 'aws:TagKeys': ['owner', 'hashicorp:vault'] })).toBe(true);
      expect(check(condition, { 'aws:TagKeys': ['owner'] })).toBe(false);
      expect(check(condition, {})).toBe(false);
    });

    it('ForAnyValue with a negated operator: some request value matches none of the policy values', () => {
      const condition = { 'ForAnyValue:StringNotEquals': { 'aws:TagKeys': ['hashicorp:vault'] } };
      expect(check(condition, { 'aws:TagKeys': ['hashicorp:vault', 'owner'] })).toBe(true);
      expect(check(condition, { 'aws:TagKeys': ['hashicorp:vault'] })).toBe(false);
    });

    it('ForAnyValue:…IfExists matches an absent key', () => {
      expect(check({ 'ForAnyValue:StringEqualsIfExists': { 'aws:TagKeys': 'x' } }, {})).toBe(true);
    });

    it('without a qualifier, a multi-valued key matches a positive operator when any value does (chosen)', () => {
      expect(check({ StringEquals: { 'aws:TagKeys': 'owner' } }, { 'aws:TagKeys': ['a', 'owner'] })).toBe(true);
      expect(check({ StringNotEquals: { 'aws:TagKeys': 'owner' } }, { 'aws:TagKeys': ['a', 'owner'] })).toBe(false);
    });
  });
});
