import type { HclDocument, HclObject, HclValue } from '../kernel/hcl.js';

/**
 * A JSON configuration file decoded like `JSON.parse` does, keeping the line of every object
 * key, so that a mistake in a JSON config is reported with its line as one in HCL is. The text
 * is first checked by `JSON.parse` (whose message is the one shown for malformed JSON); this
 * scanner then only ever sees valid JSON.
 */
export function parseJsonDocument(text: string): HclDocument {
  JSON.parse(text);
  const lines = new WeakMap<object, Map<string, number>>();
  let pos = 0;
  let line = 1;
  const skip = () => {
    for (; pos < text.length; pos++) {
      const c = text[pos];
      if (c === '\n') line++;
      else if (c !== ' ' && c !== '\t' && c !== '\r' && c !== '\uFEFF') break;
    }
  };
  const readString = (): string => {
    const start = pos;
    pos++;
    while (text[pos] !== '"') pos += text[pos] === '\\' ? 2 : 1;
    pos++;
    return JSON.parse(text.slice(start, pos)) as string;
  };
  const readValue = (): HclValue => {
    skip();
    const c = text[pos];
    if (c === '{') {
      pos++;
      const obj: HclObject = {};
      const keyLines = new Map<string, number>();
      lines.set(obj, keyLines);
      for (;;) {
        skip();
        if (text[pos] === '}') break;
        if (text[pos] === ',') {
          pos++;
          continue;
        }
        const keyLine = line;
        const key = readString();
        skip();
        pos++; // ':'
        // An own property, so `__proto__` cannot touch the prototype (as in the HCL parser).
        Object.defineProperty(obj, key, { value: readValue(), enumerable: true, writable: true, configurable: true });
        keyLines.set(key, keyLine);
      }
      pos++;
      return obj;
    }
    if (c === '[') {
      pos++;
      const out: HclValue[] = [];
      for (;;) {
        skip();
        if (text[pos] === ']') break;
        if (text[pos] === ',') {
          pos++;
          continue;
        }
        out.push(readValue());
      }
      pos++;
      return out;
    }
    if (c === '"') return readString();
    const m = /^(?:true|false|null|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)/.exec(text.slice(pos, pos + 400))!;
    pos += m[0].length;
    return JSON.parse(m[0]) as HclValue;
  };
  const value = readValue();
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error('the top level must be a JSON object');
  return { value, lineOf: (container, key) => lines.get(container)?.get(key) };
}
