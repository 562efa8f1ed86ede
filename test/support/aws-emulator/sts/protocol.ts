/**
 * STS over awsQuery: form-encoded `Action=…&Version=2011-06-15&…` in, XML out. Errors are
 * `<ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/></ErrorResponse>` —
 * singular `Error`, never EC2's `<Errors>` wrapper (moto pitfall #26) and never JSON.
 */
import { AwsError } from '../errors.js';
import type { LogFields, ServiceReply } from '../log.js';

export const STS_VERSION = '2011-06-15';
const NS = 'https://sts.amazonaws.com/doc/2011-06-15/';

/** Escapes element text (no attribute values are ever built from input). */
export function xmlEscape(s: string): string {
  return s.replace(/[<>&]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;' })[c]!);
}

/** `<Name>value</Name>` elements from an object; undefined members are omitted, objects nest. */
export function xmlElements(fields: Record<string, unknown>, indent = '    '): string {
  return Object.entries(fields)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) =>
      v !== null && typeof v === 'object'
        ? `${indent}<${k}>\n${xmlElements(v as Record<string, unknown>, indent + '  ')}${indent}</${k}>\n`
        : `${indent}<${k}>${xmlEscape(String(v))}</${k}>\n`,
    )
    .join('');
}

export function xmlReply(action: string, result: Record<string, unknown>, requestId: string, log: LogFields): ServiceReply {
  const body =
    `<${action}Response xmlns="${NS}">\n` +
    `  <${action}Result>\n${xmlElements(result)}  </${action}Result>\n` +
    `  <ResponseMetadata>\n    <RequestId>${requestId}</RequestId>\n  </ResponseMetadata>\n` +
    `</${action}Response>\n`;
  return { status: 200, headers: { 'content-type': 'text/xml' }, body, log };
}

export function xmlError(err: AwsError, requestId: string, log: LogFields): ServiceReply {
  const body =
    `<ErrorResponse xmlns="${NS}">\n` +
    `  <Error>\n    <Type>${err.status >= 500 ? 'Receiver' : 'Sender'}</Type>\n` +
    `    <Code>${xmlEscape(err.code)}</Code>\n    <Message>${xmlEscape(err.message)}</Message>\n  </Error>\n` +
    `  <RequestId>${requestId}</RequestId>\n` +
    `</ErrorResponse>\n`;
  return { status: err.status, headers: { 'content-type': 'text/xml' }, body, log: { ...log, errorCode: err.code } };
}

/** ISO-8601 UTC without milliseconds, as STS writes `Expiration`. */
export function isoSeconds(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Field rules in the service model's terms; violations produce AWS's ValidationError text. */
export interface ParamRule {
  name: string;
  required?: boolean;
  min?: number;
  max?: number;
  pattern?: string;
  sensitive?: boolean;
  integer?: { min: number; max: number };
}

export function validateParams(params: URLSearchParams, rules: ParamRule[]): void {
  const violations: string[] = [];
  for (const rule of rules) {
    const value = params.get(rule.name);
    const path = rule.name.charAt(0).toLowerCase() + rule.name.slice(1);
    const shown = rule.sensitive === true ? '' : ` '${value}'`;
    const fail = (c: string) => violations.push(`Value${shown} at '${path}' failed to satisfy constraint: ${c}`);
    if (value === null) {
      if (rule.required === true) violations.push(`Value null at '${path}' failed to satisfy constraint: Member must not be null`);
      continue;
    }
    if (rule.integer !== undefined) {
      if (!/^-?\d+$/.test(value)) {
        fail('Member must be an integer');
        continue;
      }
      const n = Number(value);
      if (n < rule.integer.min) fail(`Member must have value greater than or equal to ${rule.integer.min}`);
      if (n > rule.integer.max) fail(`Member must have value less than or equal to ${rule.integer.max}`);
      continue;
    }
    if (rule.min !== undefined && value.length < rule.min) fail(`Member must have length greater than or equal to ${rule.min}`);
    if (rule.max !== undefined && value.length > rule.max) fail(`Member must have length less than or equal to ${rule.max}`);
    if (rule.pattern !== undefined && !new RegExp(`^(?:${rule.pattern})$`, 'u').test(value)) {
      fail(`Member must satisfy regular expression pattern: ${rule.pattern}`);
    }
  }
  if (violations.length > 0) {
    const n = violations.length;
    throw new AwsError('ValidationError', `${n} validation error${n > 1 ? 's' : ''} detected: ${violations.join('; ')}`);
  }
}

/** A role ARN must parse (`arn:aws:iam::<account>:role/<path/><name>`), else `<value> is invalid`. */
export function parseRoleArn(value: string): { accountId: string } {
  const m = /^arn:aws[a-z-]*:iam::(\d{12}):role\/(?:[\x21-\x7e]+\/)?[\w+=,.@-]{1,64}$/.exec(value);
  if (m === null) throw new AwsError('ValidationError', `${value} is invalid`);
  return { accountId: m[1] };
}

/** `ExpiredTokenException` etc. keep their name; SigV4 failures use STS's query-protocol codes. */
export function stsAuthError(err: AwsError): AwsError {
  switch (err.code) {
    case 'MissingAuthenticationTokenException':
      return new AwsError('MissingAuthenticationToken', 'Request is missing Authentication Token', 403);
    case 'IncompleteSignatureException':
      return new AwsError('IncompleteSignature', err.message, 400);
    case 'InvalidSignatureException':
      return new AwsError('SignatureDoesNotMatch', err.message, 403);
    case 'UnrecognizedClientException':
      return new AwsError('InvalidClientTokenId', err.message, 403);
    case 'ExpiredTokenException':
      return new AwsError('ExpiredToken', err.message, 400);
    default:
      return err;
  }
}
