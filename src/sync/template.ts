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
  // replaceAll is split-and-join without the array; an empty `old` keeps the split-and-join meaning (between characters).
  replace: { arity: 3, apply: ([old, neu, s]) => (old === '' ? String(s).split('').join(String(neu)) : String(s).replaceAll(String(old), String(neu))) },
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
      // Plain runs are copied whole, up to the next quote or escape.
      const special = /["\\]/g;
      let j = i + 1;
      let value = '';
      for (;;) {
        special.lastIndex = j;
        const m = special.exec(action);
        if (!m) throw new TemplateError('unterminated quoted string');
        value += action.slice(j, m.index);
        j = m.index;
        if (m[0] === '"') break;
        if (j + 1 >= action.length) throw new TemplateError('unterminated quoted string');
        const next = action[j + 1]!;
        value += next === 'n' ? '\n' : next === 't' ? '\t' : next;
        j += 2;
      }
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

/** The longest template accepted: parsing is linear in it, and no useful name template comes near. */
export const TEMPLATE_MAX_LENGTH = 16_384;
/**
 * The rendering budget: characters all the actions of one rendering may produce together
 * (field values and every function's output, intermediate ones included). Chained `replace`s
 * can double a value at each step; the budget stops them after a bounded amount of work, long
 * before memory or the event loop notice, and far above anything a real name needs.
 */
export const RENDER_BUDGET = 65_536;

/** A template refused for what rendering it would cost, not for its syntax. */
export class TemplateBudgetError extends TemplateError {
  constructor(
    /** `output`: the actions' outputs together exceed RENDER_BUDGET; `length`: the name exceeds its maximum. */
    readonly limit: 'output' | 'length',
    message: string,
    /** What was rendered when the limit was reached (for `length`: the name's beginning). */
    readonly partial = '',
  ) {
    super(message);
  }
}

/** Parses a template; throws TemplateError with a readable reason. */
export function parseTemplate(template: string): Part[] {
  if (template.length > TEMPLATE_MAX_LENGTH) throw new TemplateError(`the template is longer than ${TEMPLATE_MAX_LENGTH} characters`);
  const parts: Part[] = [];
  // Indices, never slices of the rest: the work stays linear in the template's length.
  let at = 0;
  while (at < template.length) {
    const open = template.indexOf('{{', at);
    if (open === -1) {
      if (template.includes('}}', at)) throw new TemplateError('unexpected "}}"');
      parts.push({ kind: 'text', text: template.slice(at) });
      break;
    }
    if (open > at) parts.push({ kind: 'text', text: template.slice(at, open) });
    const close = template.indexOf('}}', open + 2);
    if (close === -1) throw new TemplateError('unclosed action');
    parts.push({ kind: 'action', pipeline: parseAction(template.slice(open + 2, close)) });
    at = close + 2;
  }
  return parts;
}

/** One action's pipeline: `.Field`, `fn args…`, `… | fn args…`, arities checked. */
function parseAction(text: string): Command[] {
  // Go's trim markers: `{{- ` and ` -}}`.
  const tokens = tokenize(text.replace(/^-\s/, ' ').replace(/\s-$/, ' '));
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
  return pipeline;
}

/** Occurrences of `needle` in `haystack` (non-overlapping, as `split` counts them). */
function occurrences(haystack: string, needle: string): number {
  let count = 0;
  for (let i = haystack.indexOf(needle); i !== -1; i = haystack.indexOf(needle, i + needle.length)) count++;
  return count;
}

/**
 * The length `replace` would produce, known before it is built (an empty `old` inserts between
 * every character). The bound every occurrence could reach is tried first, so only a `replace`
 * that might exceed `room` pays for counting.
 */
function replacedLength([old, neu, s]: Array<string | number>, room: number): number {
  const [o, n, text] = [String(old), String(neu), String(s)];
  if (n.length <= o.length) return text.length;
  const most = o === '' ? Math.max(0, text.length - 1) : Math.floor(text.length / o.length);
  const bound = text.length + most * (n.length - o.length);
  if (bound <= room || o === '') return bound;
  return text.length + occurrences(text, o) * (n.length - o.length);
}

/**
 * Renders a template for one secret. The work is bounded whatever the template: the actions'
 * outputs together may not exceed RENDER_BUDGET characters (checked before a `replace` builds
 * its result, and after any other function, whose output is at most a few times its input), nor the
 * rendered text `maxLength`; either throws TemplateBudgetError at the point it is exceeded.
 */
export function renderTemplate(template: string, ctx: TemplateContext, maxLength = Infinity): string {
  let out = '';
  let spent = 0;
  const spend = (chars: number) => {
    spent += chars;
    if (spent > RENDER_BUDGET) {
      throw new TemplateBudgetError('output', `rendering it would produce more than ${RENDER_BUDGET} characters (all its actions together)`);
    }
  };
  const emit = (text: string) => {
    out += text;
    if (out.length > maxLength) throw new TemplateBudgetError('length', `it renders a name longer than ${maxLength} characters`, out.slice(0, 80));
  };
  for (const part of parseTemplate(template)) {
    if (part.kind === 'text') {
      emit(part.text);
      continue;
    }
    let value: string | number | undefined;
    part.pipeline.forEach((cmd, index) => {
      const args = cmd.args.map((a) => (a.kind === 'field' ? ctx[a.name] : a.value));
      if (index > 0) args.push(value!);
      // A replace that would go over is refused before its result is built.
      if (cmd.fn === 'replace' && replacedLength(args, RENDER_BUDGET - spent) > RENDER_BUDGET - spent) spend(Infinity);
      value = cmd.fn ? FUNCTIONS[cmd.fn]!.apply(args) : args[0];
      spend(String(value).length);
    });
    emit(String(value ?? ''));
  }
  return out;
}

/** Whether a template uses `.SecretKey` (required for secret-key granularity to give distinct names). */
export function usesSecretKey(template: string): boolean {
  return parseTemplate(template).some(
    (p) => p.kind === 'action' && p.pipeline.some((c) => c.args.some((a) => a.kind === 'field' && a.name === 'SecretKey')),
  );
}
