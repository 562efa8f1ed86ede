import { describe, expect, it } from 'vitest';
import { normaliseAwsName } from '../../src/sync/naming.js';
import {
  parseTemplate,
  RENDER_BUDGET,
  renderTemplate,
  TEMPLATE_MAX_LENGTH,
  TemplateBudgetError,
  TemplateError,
  usesSecretKey,
  type TemplateContext,
} from '../../src/sync/template.js';

const ctx: TemplateContext = {
  DestinationType: 'aws-sm',
  DestinationName: 'prod',
  NamespacePath: '',
  NamespaceBaseName: '',
  NamespaceID: 'root',
  MountPath: 'my-kv',
  MountBaseName: 'my-kv',
  MountAccessor: 'kv_1234',
  SecretPath: 'path/to/secret1',
  SecretBaseName: 'secret1',
  SecretKey: 'foo',
};

describe('secret name templates', () => {
  it('renders the default template as vault/<accessor>/<path>', () => {
    expect(renderTemplate('vault/{{ .MountAccessor }}/{{ .SecretPath }}', ctx)).toBe('vault/kv_1234/path/to/secret1');
  });

  it('renders the spec examples', () => {
    expect(renderTemplate('prefix-{{ .SecretPath }}', ctx)).toBe('prefix-path/to/secret1');
    expect(renderTemplate('{{ .SecretBaseName | uppercase }}', ctx)).toBe('SECRET1');
    expect(renderTemplate('{{ .MountAccessor }}_{{ .SecretKey }}', ctx)).toBe('kv_1234_foo');
    expect(renderTemplate('{{ .SecretPath | replace "/" "_" }}', ctx)).toBe('path_to_secret1');
  });

  it('accepts function-call form and chained pipelines', () => {
    expect(renderTemplate('{{ lowercase .DestinationType }}', ctx)).toBe('aws-sm');
    expect(renderTemplate('{{ .SecretPath | replace "/" "-" | uppercase }}', ctx)).toBe('PATH-TO-SECRET1');
    expect(renderTemplate('{{ .SecretPath | truncate 4 }}', ctx)).toBe('path');
  });

  it('rejects unknown fields, unknown functions, wrong arity and unclosed actions', () => {
    expect(() => parseTemplate('{{ .Nope }}')).toThrow(TemplateError);
    expect(() => parseTemplate('{{ .SecretPath | shout }}')).toThrow(TemplateError);
    expect(() => parseTemplate('{{ .SecretPath | replace "/" }}')).toThrow(/wrong number of args/);
    expect(() => parseTemplate('vault/{{ .SecretPath')).toThrow(/unclosed/);
  });

  it('knows whether a template uses .SecretKey', () => {
    expect(usesSecretKey('{{ .SecretPath }}/{{ .SecretKey | lowercase }}')).toBe(true);
    expect(usesSecretKey('{{ .SecretPath }}')).toBe(false);
  });

  /** `n` chained `replace` actions, each doubling every "a", on `input` (a quoted literal or a field). */
  const doublings = (input: string, n: number) => `{{ ${input}${' | replace "a" "aa"'.repeat(n)} }}`;

  it('refuses ten chained replace actions on a 10 KB string by the rendering budget, before building the result that exceeds it', () => {
    const template = doublings(`"${'a'.repeat(10 * 1024)}"`, 10);
    expect(template.length).toBeLessThan(TEMPLATE_MAX_LENGTH);
    let error: unknown;
    try {
      renderTemplate(template, ctx);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(TemplateBudgetError);
    expect((error as TemplateBudgetError).limit).toBe('output');
    expect((error as Error).message).toBe(`rendering it would produce more than ${RENDER_BUDGET} characters (all its actions together)`);
  });

  it('accepts ten chained replace actions whose output stays small', () => {
    const template = `{{ .SecretPath${' | replace "/" "-" | replace "-" "/"'.repeat(5)} }}`;
    expect(renderTemplate(template, ctx)).toBe('path/to/secret1');
    expect(renderTemplate(doublings('.SecretBaseName', 10), { ...ctx, SecretBaseName: 'a' })).toBe('a'.repeat(1024));
  });

  it('stops a name at its maximum length, and refuses a template longer than the parser takes', () => {
    expect(() => renderTemplate('{{ .SecretPath }}'.repeat(40), ctx, 512)).toThrow(/renders a name longer than 512 characters/);
    expect(() => parseTemplate('x'.repeat(TEMPLATE_MAX_LENGTH + 1))).toThrow(`the template is longer than ${TEMPLATE_MAX_LENGTH} characters`);
  });

  it('normalises names to the AWS character set and refuses names that cannot be valid', () => {
    expect(normaliseAwsName('vault/kv_1/a b*c')).toBe('vault/kv_1/a_b_c');
    expect(normaliseAwsName('ok/+=.@-_')).toBe('ok/+=.@-_');
    expect(normaliseAwsName('')).toBeUndefined();
    expect(normaliseAwsName('x'.repeat(513))).toBeUndefined();
  });
});

import { sanitiseProviderMessage } from '../../src/sync/aws-sm/errors.js';

describe('provider error messages in statuses', () => {
  it('keep the first line and drop anything credential-shaped', () => {
    const raw =
      'The request signature we calculated does not match. Credential=ASIAXXXXXXXXXXXXXXXX/20260101/us-east-1\nCanonical request:\nx-amz-security-token:IQoJb3JpZ2luX2VjEJr//////////wEaCXVz\n';
    const clean = sanitiseProviderMessage(raw);
    expect(clean).not.toContain('ASIAXXXXXXXXXXXXXXXX');
    expect(clean).not.toContain('IQoJb3JpZ2luX2VjEJr');
    expect(clean).not.toContain('\n');
    expect(sanitiseProviderMessage('token eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln rejected')).toBe('token [token] rejected');
  });
});
