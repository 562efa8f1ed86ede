import type { PathSpec } from '../kernel/request.js';

export interface PathMatch {
  spec: PathSpec;
  params: Record<string, string>;
}

/** Pattern segments, split once per declaration (matching runs on every request). */
const compiledPatterns = new WeakMap<PathSpec, string[]>();

/** Matches a mount-relative path (no leading or trailing slash) against declared patterns, in order. */
export function matchPath(paths: PathSpec[], relative: string): PathMatch | undefined {
  const segments = relative === '' ? [] : relative.split('/');
  for (const spec of paths) {
    let pattern = compiledPatterns.get(spec);
    if (!pattern) {
      pattern = spec.pattern === '' ? [] : spec.pattern.split('/');
      compiledPatterns.set(spec, pattern);
    }
    const params = matchSegments(pattern, segments);
    if (params) return { spec, params };
  }
  return undefined;
}

function matchSegments(pattern: string[], segments: string[]): Record<string, string> | undefined {
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i]!;
    if (p.startsWith(':') && (p.endsWith('+') || p.endsWith('*'))) {
      // A rest parameter takes everything up to the literal suffix that follows it (`:path+/tune`).
      const suffix = pattern.slice(i + 1);
      const restLength = segments.length - i - suffix.length;
      if (restLength < (p.endsWith('+') ? 1 : 0)) return undefined;
      const tail = matchSegments(suffix, segments.slice(i + restLength));
      if (!tail) return undefined;
      params[p.slice(1, -1)] = segments.slice(i, i + restLength).join('/');
      return { ...params, ...tail };
    }
    const seg = segments[i];
    if (seg === undefined) return undefined;
    if (p.startsWith(':')) {
      if (seg === '') return undefined;
      params[p.slice(1)] = seg;
    } else if (p !== seg) return undefined;
  }
  return segments.length === pattern.length ? params : undefined;
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
