import { createHash } from 'node:crypto';

/**
 * Secret name templates: the subset of Go's text/template that Vault's sync uses —
 * `{{ .Field }}` placeholders, function calls (`lowercase .SecretPath`) and pipelines
 * (`{{ .SecretPath | replace "/" "_" }}`). Templates are parsed when a destination is
 * written, so a bad one is a 400 then, not a failed sync later.
 */
export interface TemplateContext {
  DestinationType: string;
  DestinationName: string;
  NamespacePath: string;
  NamespaceBaseName: string;
  NamespaceID: string;
  MountPath: string;
  MountBaseName: string;
  MountAccessor: string;
  SecretPath: string;
  SecretBaseName: string;
  SecretKey: string;
}

export const TEMPLATE_FIELDS: ReadonlyArray<keyof TemplateContext> = [
  'DestinationType',
  'DestinationName',
  'NamespacePath',
  'NamespaceBaseName',
  'NamespaceID',
  'MountPath',
  'MountBaseName',
  'MountAccessor',
  'SecretPath',
  'SecretBaseName',
  'SecretKey',
];

export class TemplateError extends Error {}

type Arg = { kind: 'field'; name: keyof TemplateContext } | { kind: 'string'; value: string } | { kind: 'number'; value: number };
interface Command {
  fn?: string;
  args: Arg[];
}
type Part = { kind: 'text'; text: string } | { kind: 'action'; pipeline: Command[] };

const FUNCTIONS: Record<string, { arity: number; apply: (args: Array<string | number>) => string }> = {
  lowercase: { arity: 1, apply: ([s]) => String(s).toLowerCase() },
  uppercase: { arity: 1, apply: ([s]) => String(s).toUpperCase() },
  replace: { arity: 3, apply: ([old, neu, s]) => String(s).split(String(old)).join(String(neu)) },
  truncate: { arity: 2, apply: ([n, s]) => String(s).slice(0, Number(n)) },
  truncate_sha256: {
    arity: 2,
    apply: ([n, s]) => {
      const text = String(s);
      const max = Number(n);
      if (text.length <= max) return text;
      const hash = createHash('sha256').update(text).digest('hex');
      return text.slice(0, Math.max(0, max - 8)) + hash.slice(0, 8);
    },
  },
  sha256: { arity: 1, apply: ([s]) => createHash('sha256').update(String(s)).digest('hex') },
  base64: { arity: 1, apply: ([s]) => Buffer.from(String(s)).toString('base64') },
};

function tokenize(action: string): string[] {
  const tokens: string[] = [];
  let i = 0;
  while (i < action.length) {
    const c = action[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (c === '|') {
      tokens.push('|');
      i++;
    } else if (c === '"') {
      let j = i + 1;
      let value = '';
      while (j < action.length && action[j] !== '"') {
        if (action[j] === '\\' && j + 1 < action.length) {
          const next = action[j + 1]!;
          value += next === 'n' ? '\n' : next === 't' ? '\t' : next;
          j += 2;
        } else {
          value += action[j++];
        }
      }
      if (j >= action.length) throw new TemplateError('unterminated quoted string');
      tokens.push(JSON.stringify(value));
      i = j + 1;
    } else if (c === '`') {
      const j = action.indexOf('`', i + 1);
      if (j === -1) throw new TemplateError('unterminated raw string');
      tokens.push(JSON.stringify(action.slice(i + 1, j)));
      i = j + 1;
    } else {
      let j = i;
      while (j < action.length && !/[\s|"]/.test(action[j]!)) j++;
      tokens.push(action.slice(i, j));
      i = j;
    }
  }
  return tokens;
}

function parseArg(token: string): Arg {
  if (token.startsWith('"')) return { kind: 'string', value: JSON.parse(token) as string };
  if (/^-?\d+$/.test(token)) return { kind: 'number', value: Number(token) };
  if (token.startsWith('.')) {
    const name = token.slice(1) as keyof TemplateContext;
    if (!TEMPLATE_FIELDS.includes(name)) throw new TemplateError(`unknown field ${token}`);
    return { kind: 'field', name };
  }
  throw new TemplateError(`unexpected "${token}"`);
}

/** Parses a template; throws TemplateError with a readable reason. */
export function parseTemplate(template: string): Part[] {
  const parts: Part[] = [];
  let rest = template;
  while (rest.length > 0) {
    const open = rest.indexOf('{{');
    if (open === -1) {
      if (rest.includes('}}')) throw new TemplateError('unexpected "}}"');
      parts.push({ kind: 'text', text: rest });
      break;
    }
    if (open > 0) parts.push({ kind: 'text', text: rest.slice(0, open) });
    const close = rest.indexOf('}}', open + 2);
    if (close === -1) throw new TemplateError('unclosed action');
    let action = rest.slice(open + 2, close);
    // Go's trim markers: `{{- ` and ` -}}`.
    action = action.replace(/^-\s/, ' ').replace(/\s-$/, ' ');
    const tokens = tokenize(action);
    if (tokens.length === 0) throw new TemplateError('empty action');
    const pipeline: Command[] = [];
    let current: string[] = [];
    const flush = () => {
      if (current.length === 0) throw new TemplateError('missing command in pipeline');
      const [head, ...args] = current;
      if (FUNCTIONS[head!]) {
        pipeline.push({ fn: head, args: args.map(parseArg) });
      } else {
        if (args.length > 0) throw new TemplateError(`"${head}" is not a function`);
        pipeline.push({ args: [parseArg(head!)] });
      }
      current = [];
    };
    for (const t of tokens) {
      if (t === '|') flush();
      else current.push(t);
    }
    flush();
    // Check arities: a piped command receives the previous value as its last argument.
    pipeline.forEach((cmd, index) => {
      if (!cmd.fn) {
        if (index > 0) throw new TemplateError('a value cannot follow a pipe');
        return;
      }
      const supplied = cmd.args.length + (index > 0 ? 1 : 0);
      if (supplied !== FUNCTIONS[cmd.fn]!.arity) {
        throw new TemplateError(`wrong number of args for ${cmd.fn}: want ${FUNCTIONS[cmd.fn]!.arity} got ${supplied}`);
      }
    });
    parts.push({ kind: 'action', pipeline });
    rest = rest.slice(close + 2);
  }
  return parts;
}

export function renderTemplate(template: string, ctx: TemplateContext): string {
  let out = '';
  for (const part of parseTemplate(template)) {
    if (part.kind === 'text') {
      out += part.text;
      continue;
    }
    let value: string | number | undefined;
    part.pipeline.forEach((cmd, index) => {
      const args = cmd.args.map((a) => (a.kind === 'field' ? ctx[a.name] : a.value));
      if (index > 0) args.push(value!);
      value = cmd.fn ? FUNCTIONS[cmd.fn]!.apply(args) : args[0];
    });
    out += String(value ?? '');
  }
  return out;
}

/** Whether a template uses `.SecretKey` (required for secret-key granularity to give distinct names). */
export function usesSecretKey(template: string): boolean {
  return parseTemplate(template).some(
    (p) => p.kind === 'action' && p.pipeline.some((c) => c.args.some((a) => a.kind === 'field' && a.name === 'SecretKey')),
  );
}
