import type { PathSpec } from '../kernel/request.js';

export interface PathMatch {
  spec: PathSpec;
  params: Record<string, string>;
}

/** One segment of a declared pattern: a literal, a `:name` parameter, or a `:name+`/`:name*` rest parameter. */
type Segment =
  | { kind: 'literal'; text: string }
  | { kind: 'param'; name: string }
  | { kind: 'rest'; name: string; min: 0 | 1 };

/** Patterns compiled once per declaration (matching runs on every request). */
const compiledPatterns = new WeakMap<PathSpec, Segment[]>();

function compile(pattern: string): Segment[] {
  if (pattern === '') return [];
  return pattern.split('/').map((p): Segment => {
    if (!p.startsWith(':')) return { kind: 'literal', text: p };
    if (p.endsWith('+') || p.endsWith('*')) return { kind: 'rest', name: p.slice(1, -1), min: p.endsWith('+') ? 1 : 0 };
    return { kind: 'param', name: p.slice(1) };
  });
}

/** Matches a mount-relative path (no leading or trailing slash) against declared patterns, in order. */
export function matchPath(paths: PathSpec[], relative: string): PathMatch | undefined {
  const segments = relative === '' ? [] : relative.split('/');
  for (const spec of paths) {
    let pattern = compiledPatterns.get(spec);
    if (!pattern) {
      pattern = compile(spec.pattern);
      compiledPatterns.set(spec, pattern);
    }
    // Most declarations differ in their first literal: rule them out before building anything.
    const first = pattern[0];
    if (first?.kind === 'literal' && first.text !== segments[0]) continue;
    const params: Record<string, string> = {};
    if (matchFrom(pattern, 0, segments, 0, segments.length, params)) return { spec, params };
  }
  return undefined;
}

/** Matches `pattern[p…]` against `segments[s…end)`, filling `params` in pattern order. */
function matchFrom(pattern: Segment[], p: number, segments: string[], s: number, end: number, params: Record<string, string>): boolean {
  for (; p < pattern.length; p++, s++) {
    const seg = pattern[p]!;
    if (seg.kind === 'rest') {
      // A rest parameter takes everything up to the literal suffix that follows it (`:path+/tune`).
      const restLength = end - s - (pattern.length - p - 1);
      if (restLength < seg.min) return false;
      params[seg.name] = segments.slice(s, s + restLength).join('/');
      return matchFrom(pattern, p + 1, segments, s + restLength, end, params);
    }
    if (s >= end) return false;
    const value = segments[s]!;
    if (seg.kind === 'param') {
      if (value === '') return false;
      params[seg.name] = value;
    } else if (seg.text !== value) return false;
  }
  return s === end;
}

/**
 * Applies a path's `normalise` rules to a match: the parameters Vault normalises get their
 * normal form, and the mount-relative path is rebuilt from the pattern with them. Returns
 * undefined when the path declares nothing to normalise.
 */
export function normaliseMatch(match: PathMatch): { params: Record<string, string>; relative: string } | undefined {
  const rules = match.spec.normalise;
  if (!rules) return undefined;
  const params = { ...match.params };
  for (const [name, normalise] of Object.entries(rules)) {
    if (params[name] !== undefined) params[name] = normalise(params[name]);
  }
  const relative = match.spec.pattern
    .split('/')
    .map((segment) => (segment.startsWith(':') ? params[segment.slice(1).replace(/[+*]$/, '')] ?? '' : segment))
    .join('/');
  return { params, relative };
}
