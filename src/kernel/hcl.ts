/**
 * A small, dependency-free HCL parser covering what Vault server configs and
 * ACL policies use (HCL1 syntax, whose common forms are also valid HCL2).
 *
 * Decoding follows HCL1's HCL→JSON mapping as Vault sees it:
 *   - `key = value` is an attribute. Defining the same attribute twice in one
 *     body is an error (Vault warns about duplicates and plans to reject them).
 *   - `name "l1" "l2" { ... }` (or HCL1's `name "l1" = { ... }`) becomes
 *     nested objects keyed by label: `{ name: { l1: { l2: {...body} } } }`.
 *     Blocks sharing the leading labels merge, so `path "a" {}` and
 *     `path "b" {}` give `{ path: { a: {}, b: {} } }`.
 *   - If the exact same block key path appears again (repeated unlabeled
 *     `storage {}` or a repeated `path "a" {}`), the value becomes an array
 *     of the bodies in source order. An attribute and a block with the same
 *     name, or blocks whose label depths disagree, are errors.
 * Not supported: HCL2 expressions, functions and `${...}` interpolation
 * (kept literally inside strings), and bare identifiers as values.
 */

/** Any decoded HCL value; the shape matches what `JSON.parse` would give for the equivalent JSON config. */
export type HclValue = string | number | boolean | null | HclValue[] | HclObject;

/** A decoded HCL body or object literal. */
export interface HclObject {
  [k: string]: HclValue;
}

/**
 * Thrown for malformed HCL. Vault users hand-write configs and policies, so
 * every error carries a 1-based line and column (and the file name, if given)
 * and the message names the line, e.g.
 * `vault.hcl:3:11: expected "=" after key "address" (line 3, column 11)`.
 */
export class HclSyntaxError extends Error {
  /** The message without the location prefix/suffix. */
  readonly reason: string;
  constructor(reason: string, readonly line: number, readonly column: number, readonly file?: string) {
    super(
      file === undefined
        ? `line ${line}, column ${column}: ${reason}`
        : `${file}:${line}:${column}: ${reason} (line ${line}, column ${column})`,
    );
    this.name = 'HclSyntaxError';
    this.reason = reason;
  }
}

type Kind = 'ident' | 'string' | 'heredoc' | 'number' | '{' | '}' | '[' | ']' | '=' | ',' | 'nl' | 'eof';
interface Tok { kind: Kind; text: string; value?: string | number; line: number; col: number }
type Fail = (line: number, col: number, reason: string) => never;

const IDENT_START = /[\p{L}_]/u;
const IDENT_CHAR = /[\p{L}\p{N}_.-]/u;
const NUMBER = /^-?(?:0[xX][0-9a-fA-F]+|\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)/;
const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', '"': '"', '\\': '\\', a: '\x07', b: '\b', f: '\f', v: '\v' };

function tokenize(src: string, fail: Fail): Tok[] {
  const toks: Tok[] = [];
  let pos = 0, line = 1, lineStart = 0;
  const col = (p = pos) => p - lineStart + 1;
  const newline = () => { line++; lineStart = pos; };
  while (pos < src.length) {
    const c = src[pos]!;
    const tl = line, tc = col();
    const push = (kind: Kind, text: string, value?: string | number) => toks.push({ kind, text, value, line: tl, col: tc });
    if (c === '\n') { pos++; push('nl', '\n'); newline(); continue; }
    if (c === ' ' || c === '\t' || c === '\r' || c === '\uFEFF') { pos++; continue; }
    if (c === '#' || src.startsWith('//', pos)) { while (pos < src.length && src[pos] !== '\n') pos++; continue; }
    if (src.startsWith('/*', pos)) {
      const end = src.indexOf('*/', pos + 2);
      if (end < 0) fail(tl, tc, 'unterminated "/*" comment');
      while (pos < end + 2) if (src[pos++] === '\n') newline();
      if (line !== tl) push('nl', '\n'); // a multi-line comment separates items like a newline
      continue;
    }
    if ('{}[]=,'.includes(c)) { pos++; push(c as Kind, c); continue; }
    if (c === '"') {
      const start = pos;
      let out = '';
      pos++;
      for (;;) {
        const ch = src[pos];
        if (ch === undefined || ch === '\n') fail(tl, tc, 'unterminated string (missing closing ")');
        if (ch === '"') { pos++; break; }
        if (ch !== '\\') { out += ch; pos++; continue; }
        const e = src[pos + 1] ?? '';
        if (e in ESCAPES) { out += ESCAPES[e]; pos += 2; continue; }
        const width = e === 'u' ? 4 : e === 'U' ? 8 : 0;
        const hex = src.slice(pos + 2, pos + 2 + width);
        const cp = Number.parseInt(hex, 16);
        if (width === 0 || !/^[0-9a-fA-F]+$/.test(hex) || hex.length !== width || cp > 0x10ffff) {
          fail(line, col(), `invalid escape sequence "\\${width ? e + hex : e}" in string`);
        }
        out += String.fromCodePoint(cp);
        pos += 2 + width;
      }
      push('string', src.slice(start, pos), out);
      continue;
    }
    if (src.startsWith('<<', pos)) {
      const m = /^<<(-?)([A-Za-z_][A-Za-z0-9_-]*)[ \t]*\r?\n/.exec(src.slice(pos));
      if (!m) fail(tl, tc, 'heredoc must be "<<MARKER" or "<<-MARKER" followed by a newline');
      const [, dash, marker] = m;
      pos += m[0].length;
      newline();
      const lines: string[] = [];
      for (;;) {
        if (pos >= src.length) fail(tl, tc, `unterminated heredoc: closing marker "${marker}" not found`);
        let end = src.indexOf('\n', pos);
        if (end < 0) end = src.length;
        const text = src.slice(pos, end).replace(/\r$/, '');
        if (text.trim() === marker) { pos = end; break; }
        lines.push(text);
        pos = end + 1;
        newline();
      }
      if (dash) {
        const indents = lines.filter((l) => l.trim() !== '').map((l) => /^[ \t]*/.exec(l)![0].length);
        const n = indents.length ? Math.min(...indents) : 0;
        for (let k = 0; k < lines.length; k++) lines[k] = lines[k]!.slice(n);
      }
      push('heredoc', '<<', lines.length ? lines.join('\n') + '\n' : '');
      continue;
    }
    const num = NUMBER.exec(src.slice(pos, pos + 400));
    if (num && (c !== '-' || /\d/.test(src[pos + 1] ?? ''))) {
      const text = num[0];
      pos += text.length;
      if (IDENT_CHAR.test(src[pos] ?? '')) fail(tl, tc, `invalid number "${text}${src[pos]}..." (quote it if it is a string, e.g. "10s")`);
      if (/^-?0\d/.test(text)) fail(tl, tc, `ambiguous number "${text}": HCL1 reads leading zeros as octal; quote it or drop the zeros`);
      const hex = /^(-?)0[xX](.*)$/.exec(text);
      const value = hex ? (hex[1] ? -1 : 1) * Number.parseInt(hex[2]!, 16) : Number(text);
      if (/^-?(0[xX][0-9a-fA-F]+|\d+)$/.test(text) && !Number.isSafeInteger(value)) fail(tl, tc, `integer "${text}" is too large`);
      push('number', text, value);
      continue;
    }
    if (IDENT_START.test(c)) {
      const start = pos;
      while (pos < src.length && IDENT_CHAR.test(src[pos]!)) pos++;
      push('ident', src.slice(start, pos), src.slice(start, pos));
      continue;
    }
    fail(tl, tc, `unexpected character ${JSON.stringify(c)}`);
  }
  toks.push({ kind: 'eof', text: '', line, col: col() });
  return toks;
}

function describe(t: Tok): string {
  switch (t.kind) {
    case 'eof': return 'end of file';
    case 'nl': return 'newline';
    case 'heredoc': return 'heredoc';
    case 'string': return `string ${JSON.stringify(String(t.value).length > 30 ? String(t.value).slice(0, 30) + '...' : t.value)}`;
    case 'ident': return `identifier "${t.text}"`;
    case 'number': return `number ${t.text}`;
    default: return `"${t.kind}"`;
  }
}

/** Defines an own property, so keys like `__proto__` cannot touch prototypes. */
function setKey(obj: object, key: string, value: HclValue): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

type Origin = { kind: 'container' | 'body' | 'array'; line: number };

class Parser {
  private i = 0;
  /** Objects/arrays created by block decoding, so later blocks know what they may merge into. */
  private readonly origins = new WeakMap<object, Origin>();
  /** The line each key of each decoded object was written on, for messages about the decoded data. */
  readonly lines = new WeakMap<object, Map<string, number>>();
  constructor(private readonly toks: Tok[], private readonly fail: Fail) {}

  private peek(): Tok { return this.toks[this.i]!; }
  private next(): Tok { return this.toks[this.i++]!; }
  private skipNl(): void { while (this.peek().kind === 'nl') this.i++; }
  private failAt(t: Tok, reason: string): never { return this.fail(t.line, t.col, reason); }
  private noteLine(obj: object, key: string, line: number): void {
    let keys = this.lines.get(obj);
    if (!keys) this.lines.set(obj, (keys = new Map()));
    if (!keys.has(key)) keys.set(key, line);
  }

  /** Parses items until `}` (when `open` is given) or end of file. */
  parseBody(open: Tok | null, what = 'object'): HclObject {
    const obj: HclObject = {};
    const attrs = new Map<string, number>();
    for (;;) {
      while (this.peek().kind === 'nl' || this.peek().kind === ',') this.i++;
      const t = this.peek();
      if (t.kind === 'eof') {
        if (open) this.failAt(open, `unclosed "{" of ${what} (reached end of file at line ${t.line})`);
        return obj;
      }
      if (t.kind === '}') {
        if (!open) this.failAt(t, 'unexpected "}" with no matching "{"');
        this.i++;
        return obj;
      }
      if (t.kind !== 'ident' && t.kind !== 'string') this.failAt(t, `expected a key, found ${describe(t)}`);
      this.parseItem(obj, attrs);
    }
  }

  private parseItem(obj: HclObject, attrs: Map<string, number>): void {
    const keyTok = this.next();
    const key = String(keyTok.value);
    const labels: Tok[] = [];
    while (this.peek().kind === 'string' || this.peek().kind === 'ident') labels.push(this.next());
    let t = this.next();
    if (t.kind === '=' && labels.length === 0) {
      const first = attrs.get(key);
      if (first !== undefined) this.failAt(keyTok, `duplicate attribute "${key}" (first defined at line ${first})`);
      const existing = Object.hasOwn(obj, key) ? this.origins.get(obj[key] as object) : undefined;
      if (existing) this.failAt(keyTok, `attribute "${key}" conflicts with block "${key}" defined at line ${existing.line}`);
      setKey(obj, key, this.parseValue(keyTok));
      attrs.set(key, keyTok.line);
      this.noteLine(obj, key, keyTok.line);
      const sep = this.peek();
      if (!['nl', ',', '}', 'eof'].includes(sep.kind)) this.failAt(sep, `expected newline or "," after value of "${key}", found ${describe(sep)}`);
      return;
    }
    const header = [key, ...labels.map((l) => String(l.value))];
    const name = `block ${key}${labels.map((l) => ` ${JSON.stringify(l.value)}`).join('')}`;
    if (t.kind === '=') t = this.next(); // HCL1: path "x" = { ... }
    if (t.kind !== '{') {
      if (labels.length === 0) this.failAt(t, `expected "=" after key "${key}", found ${describe(t)}`);
      if (labels.length === 1 && ['nl', 'eof', '}', ','].includes(t.kind)) {
        this.failAt(labels[0]!, `expected "=" after key "${key}", found ${describe(labels[0]!)}`);
      }
      this.failAt(t, `expected "{" after ${name}, found ${describe(t)}`);
    }
    const body = this.parseBody(t, name);
    const first = attrs.get(key);
    if (first !== undefined) this.failAt(keyTok, `${name} conflicts with attribute "${key}" defined at line ${first}`);
    this.mergeBlock(obj, header, body, keyTok, name);
  }

  private mergeBlock(obj: HclObject, header: string[], body: HclObject, at: Tok, name: string): void {
    let cur = obj;
    const conflict = (o: Origin | undefined): never =>
      this.failAt(at, `${name} conflicts with an earlier definition${o ? ` at line ${o.line}` : ''} using different labels`);
    for (const seg of header.slice(0, -1)) {
      this.noteLine(cur, seg, at.line);
      if (!Object.hasOwn(cur, seg)) {
        const child: HclObject = {};
        this.origins.set(child, { kind: 'container', line: at.line });
        setKey(cur, seg, child);
        cur = child;
        continue;
      }
      const o = this.origins.get(cur[seg] as object);
      if (o?.kind !== 'container') conflict(o);
      cur = cur[seg] as HclObject;
    }
    const last = header[header.length - 1]!;
    this.noteLine(cur, last, at.line);
    this.origins.set(body, { kind: 'body', line: at.line });
    if (!Object.hasOwn(cur, last)) return setKey(cur, last, body);
    const prev = cur[last] as HclObject | HclValue[];
    const o = this.origins.get(prev);
    if (o?.kind === 'body') {
      const arr = [prev as HclObject, body];
      this.origins.set(arr, { kind: 'array', line: o.line });
      setKey(cur, last, arr);
    } else if (o?.kind === 'array') (prev as HclValue[]).push(body);
    else conflict(o);
  }

  private parseValue(keyTok: Tok): HclValue {
    const t = this.next();
    switch (t.kind) {
      case 'string': case 'heredoc': case 'number': return t.value!;
      case '{': return this.parseBody(t, `object "${String(keyTok.value)}"`);
      case '[': return this.parseList(t, keyTok);
      case 'ident':
        if (t.text === 'true') return true;
        if (t.text === 'false') return false;
        if (t.text === 'null') return null;
        return this.failAt(t, `unexpected identifier "${t.text}" where a value was expected (strings must be quoted)`);
      default:
        return this.failAt(t, `expected a value for "${String(keyTok.value)}", found ${describe(t)}`);
    }
  }

  private parseList(open: Tok, keyTok: Tok): HclValue[] {
    const out: HclValue[] = [];
    const skip = () => {
      this.skipNl();
      const t = this.peek();
      if (t.kind === 'eof') this.failAt(open, `unclosed "[" in "${String(keyTok.value)}" (reached end of file at line ${t.line})`);
    };
    for (;;) {
      skip();
      if (this.peek().kind === ']') { this.i++; return out; }
      out.push(this.parseValue(keyTok));
      skip();
      const t = this.next();
      if (t.kind === ']') return out;
      if (t.kind !== ',') this.failAt(t, `expected "," or "]" in list "${String(keyTok.value)}", found ${describe(t)}`);
    }
  }
}

/**
 * Parses HCL text (a Vault server config or ACL policy) into plain JSON-like
 * data, throwing {@link HclSyntaxError} with the line and column of the first
 * problem. `file` is only used to prefix error messages.
 */
export function parseHcl(text: string, file?: string): HclObject {
  return parseHclDocument(text, file).value;
}

/** Decoded data plus where each key was written: what a configuration reader needs to name lines. */
export interface HclDocument {
  value: HclObject;
  /**
   * The 1-based line of `key` in `container` (an object of the decoded value): an attribute's
   * line, or the header line of the (first) block that made it.
   */
  lineOf(container: object, key: string): number | undefined;
}

/** {@link parseHcl}, keeping the line of every key. */
export function parseHclDocument(text: string, file?: string): HclDocument {
  const fail: Fail = (line, col, reason) => { throw new HclSyntaxError(reason, line, col, file); };
  const parser = new Parser(tokenize(text, fail), fail);
  const value = parser.parseBody(null);
  return { value, lineOf: (container, key) => parser.lines.get(container)?.get(key) };
}
