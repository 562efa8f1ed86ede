/**
 * Vault's JSON limits (its listener keys `max_json_depth`, `max_json_string_value_length`,
 * `max_json_object_entry_count`, `max_json_array_element_count`), checked on the raw bytes of a
 * request body as they arrive — before the body is complete, and long before `JSON.parse`
 * builds anything — so that a body of 400,000 keys or 20,000 nested arrays costs the event loop
 * the few kilobytes read up to the first limit it breaks, not a full parse (and the stack
 * overflow a deep value would cause wherever it is later walked recursively).
 *
 * A small hand-written scanner rather than a streaming JSON parser library: the check needs
 * only the nesting, the length of each string and number, and the count of separators in each
 * container — no values are built — and a scanner that builds nothing is what keeps the cost of
 * a hostile body at the bytes read. Strings, the bulk of any real body, are skipped with
 * `Buffer#indexOf` (native code); only structure is walked byte by byte. It validates no
 * syntax: `JSON.parse` still judges the body once it is complete and within the limits, which
 * makes a body that breaks a limit and then has a syntax error answer with the limit's error.
 *
 * As in Vault, the check applies when the body's first significant byte (after an optional
 * UTF-8 byte-order mark and whitespace) is `{` or `[`; other bodies (form-encoded, empty) are
 * not JSON documents and pass unchecked.
 */

/** The limits, with Vault's defaults in `DEFAULT_JSON_LIMITS`. */
export interface JsonLimits {
  /** Deepest nesting of objects and arrays; the body's own outer `{` is level 1. */
  maxDepth: number;
  /** Longest string (keys included) and number literal, in bytes as sent (escapes count as written). */
  maxStringValueLength: number;
  /** Most entries in one object. */
  maxObjectEntryCount: number;
  /** Most elements in one array. */
  maxArrayElementCount: number;
}

/** Vault's defaults (`CustomMaxJSON*` in its http package). */
export const DEFAULT_JSON_LIMITS: JsonLimits = Object.freeze({
  maxDepth: 500,
  maxStringValueLength: 1024 * 1024,
  maxObjectEntryCount: 10_000,
  maxArrayElementCount: 10_000,
});

/** Which limit a body broke. */
export type JsonLimitBreach = 'depth' | 'string' | 'number' | 'object' | 'array';

/** Vault's message for each breach (`sdk/helper/jsonutil`), byte for byte. */
export const JSON_LIMIT_MESSAGES: Record<JsonLimitBreach, string> = {
  depth: 'JSON input exceeds allowed nesting depth',
  string: 'JSON string value exceeds allowed length',
  number: 'JSON number value exceeds allowed length',
  object: 'JSON object exceeds allowed entry count',
  array: 'JSON array exceeds allowed element count',
};

const enum State {
  /** Before the first significant byte. */
  Start,
  /** Between tokens inside the document. */
  Structure,
  InString,
  InNumber,
  /** Not a JSON document, the outermost value closed, or a delimiter that does not match: nothing more to check. */
  Off,
}

const OBJECT = 0;
const ARRAY = 1;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** Bytes that continue a number literal: digits, sign, point, exponent. */
const NUMBER_BYTES = new Uint8Array(256);
for (const c of '0123456789+-.eE') NUMBER_BYTES[c.charCodeAt(0)] = 1;

/**
 * Feeds a body through in chunks as they arrive; `push` returns the limit the body broke, as
 * soon as the byte that breaks it has been seen, or undefined. The state carries across chunk
 * boundaries (a string, an escape or a number may be split anywhere).
 */
export class JsonLimitScanner {
  private state = State.Start;
  /** Kind (OBJECT, ARRAY) and separator count of each open container, innermost last. */
  private readonly kinds: number[] = [];
  private readonly separators: number[] = [];
  /** Bytes of the current string or number so far. */
  private length = 0;
  /** The previous chunk ended inside a string on a backslash: the next byte is escaped. */
  private escaped = false;

  constructor(private readonly limits: JsonLimits = DEFAULT_JSON_LIMITS) {}

  /** Whether the body is a JSON document being checked (false until its first significant byte). */
  get checking(): boolean {
    return this.state !== State.Start && this.state !== State.Off;
  }

  push(chunk: Uint8Array): JsonLimitBreach | undefined {
    const n = chunk.length;
    // Positions of the next quote and backslash at or after `i`, found once and reused while
    // still ahead (so a string with many escapes is not searched again for its closing quote).
    // -2: not searched yet; -1: none in the rest of the chunk.
    let quote = -2;
    let backslash = -2;
    let i = 0;
    while (i < n) {
      switch (this.state) {
        case State.Off:
          return undefined;
        case State.Start: {
          const b = chunk[i]!;
          if (b === 0x7b || b === 0x5b) {
            this.state = State.Structure;
          } else if (b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d || b === 0xef || b === 0xbb || b === 0xbf) {
            // Whitespace, or a byte of the UTF-8 byte-order mark.
            i++;
          } else {
            this.state = State.Off;
          }
          break;
        }
        case State.Structure: {
          const b = chunk[i]!;
          i++;
          if (b === QUOTE) {
            this.state = State.InString;
            this.length = 0;
          } else if (b === 0x7b || b === 0x5b) {
            if (this.kinds.length + 1 > this.limits.maxDepth) return 'depth';
            this.kinds.push(b === 0x7b ? OBJECT : ARRAY);
            this.separators.push(0);
          } else if (b === 0x7d || b === 0x5d) {
            const kind = this.kinds.pop();
            this.separators.pop();
            // The outermost value closed, or a mismatched delimiter: JSON.parse has the last word.
            if (kind === undefined || kind !== (b === 0x7d ? OBJECT : ARRAY) || this.kinds.length === 0) this.state = State.Off;
          } else if (b === 0x2c) {
            const top = this.kinds.length - 1;
            if (top < 0) {
              this.state = State.Off;
            } else {
              // n separators: n + 1 members.
              const members = ++this.separators[top]! + 1;
              if (this.kinds[top] === OBJECT ? members > this.limits.maxObjectEntryCount : members > this.limits.maxArrayElementCount) {
                return this.kinds[top] === OBJECT ? 'object' : 'array';
              }
            }
          } else if (b === 0x2d || (b >= 0x30 && b <= 0x39)) {
            this.state = State.InNumber;
            this.length = 1;
            if (this.length > this.limits.maxStringValueLength) return 'number';
          }
          // Anything else (whitespace, ':', the letters of true/false/null) has nothing to count.
          break;
        }
        case State.InNumber: {
          const start = i;
          while (i < n && NUMBER_BYTES[chunk[i]!] === 1) i++;
          this.length += i - start;
          if (this.length > this.limits.maxStringValueLength) return 'number';
          if (i < n) this.state = State.Structure;
          break;
        }
        case State.InString: {
          if (this.escaped) {
            this.escaped = false;
            this.length++;
            i++;
          } else {
            if (quote !== -1 && quote < i) quote = chunk.indexOf(QUOTE, i);
            if (backslash !== -1 && backslash < i) backslash = chunk.indexOf(BACKSLASH, i);
            const end = quote === -1 ? n : quote;
            if (backslash !== -1 && backslash < end) {
              // Up to and including the backslash; the byte after it is escaped (maybe in the next chunk).
              this.length += backslash - i + 1;
              i = backslash + 1;
              this.escaped = true;
            } else if (quote === -1) {
              this.length += n - i;
              i = n;
            } else {
              this.length += quote - i;
              i = quote + 1;
              this.state = State.Structure;
            }
          }
          if (this.length > this.limits.maxStringValueLength) return 'string';
          break;
        }
      }
    }
    return undefined;
  }
}
