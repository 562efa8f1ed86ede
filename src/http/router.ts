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

/** A declaration with its pattern compiled. */
interface CompiledSpec {
  spec: PathSpec;
  pattern: Segment[];
}

/**
 * A backend's declarations compiled once (matching runs on every request), indexed by the
 * first segment of the path: the declarations that start with that literal, with those that
 * start with a parameter, in declaration order. Most declarations differ in their first
 * literal, so a path is tried against the few that can match it.
 */
interface CompiledPaths {
  /** The declarations compiled (the array they were compiled from may not grow unnoticed). */
  count: number;
  byFirst: Map<string, CompiledSpec[]>;
  /** For a first segment that is no declaration's first literal (or an empty path). */
  other: CompiledSpec[];
}

const compiledPaths = new WeakMap<PathSpec[], CompiledPaths>();

function compile(pattern: string): Segment[] {
  if (pattern === '') return [];
  return pattern.split('/').map((p): Segment => {
    if (!p.startsWith(':')) return { kind: 'literal', text: p };
    if (p.endsWith('+') || p.endsWith('*')) return { kind: 'rest', name: p.slice(1, -1), min: p.endsWith('+') ? 1 : 0 };
    return { kind: 'param', name: p.slice(1) };
  });
}

function compilePaths(paths: PathSpec[]): CompiledPaths {
  const all = paths.map((spec): CompiledSpec => ({ spec, pattern: compile(spec.pattern) }));
  const firstLiteral = (c: CompiledSpec) => (c.pattern[0]?.kind === 'literal' ? c.pattern[0].text : undefined);
  const other = all.filter((c) => firstLiteral(c) === undefined);
  const byFirst = new Map<string, CompiledSpec[]>();
  for (const c of all) {
    const text = firstLiteral(c);
    if (text !== undefined && !byFirst.has(text)) byFirst.set(text, all.filter((d) => firstLiteral(d) === undefined || firstLiteral(d) === text));
  }
  return { count: paths.length, byFirst, other };
}

/** Matches a mount-relative path (no leading or trailing slash) against declared patterns, in order. */
export function matchPath(paths: PathSpec[], relative: string): PathMatch | undefined {
  let compiled = compiledPaths.get(paths);
  if (!compiled || compiled.count !== paths.length) {
    compiled = compilePaths(paths);
    compiledPaths.set(paths, compiled);
  }
  const segments = relative === '' ? [] : relative.split('/');
  const candidates = (segments.length > 0 ? compiled.byFirst.get(segments[0]!) : undefined) ?? compiled.other;
  for (const { spec, pattern } of candidates) {
    const params: Record<string, string> = {};
    if (matchFrom(pattern, 0, relative, segments, 0, 0, params)) return { spec, params };
  }
  return undefined;
}

/**
 * Matches `pattern[p…]` against `segments[s…]`, `at` being where segment `s` starts in
 * `relative` (the path the segments were split from), filling `params` in pattern order.
 */
function matchFrom(pattern: Segment[], p: number, relative: string, segments: string[], s: number, at: number, params: Record<string, string>): boolean {
  const end = segments.length;
  for (; p < pattern.length; p++, s++) {
    const seg = pattern[p]!;
    if (seg.kind === 'rest') {
      // A rest parameter takes everything up to the literal suffix that follows it (`:path+/tune`):
      // the text of those segments, slashes included, cut from the path itself.
      const restLength = end - s - (pattern.length - p - 1);
      if (restLength < seg.min) return false;
      let next = at;
      for (let k = s; k < s + restLength; k++) next += segments[k]!.length + 1;
      params[seg.name] = restLength === 0 ? '' : relative.slice(at, next - 1);
      return matchFrom(pattern, p + 1, relative, segments, s + restLength, next, params);
    }
    if (s >= end) return false;
    const value = segments[s]!;
    if (seg.kind === 'param') {
      if (value === '') return false;
      params[seg.name] = value;
    } else if (seg.text !== value) return false;
    at += value.length + 1;
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
