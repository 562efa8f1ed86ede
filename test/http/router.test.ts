import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { PathSpec } from '../../src/kernel/request.js';
import { matchPath } from '../../src/http/router.js';

const spec = (pattern: string): PathSpec => ({ pattern, operations: {} });

/**
 * The router's rule written as plainly as it can be: every declaration in order, segment by
 * segment, a rest parameter taking the segments up to its literal suffix joined again. The
 * router indexes declarations by their first literal and cuts rest values out of the path; it
 * must answer exactly this.
 */
function reference(paths: PathSpec[], relative: string): { pattern: string; params: Record<string, string> } | undefined {
  const segments = relative === '' ? [] : relative.split('/');
  for (const s of paths) {
    const pattern = s.pattern === '' ? [] : s.pattern.split('/');
    const params: Record<string, string> = {};
    const from = (p: number, i: number): boolean => {
      for (; p < pattern.length; p++, i++) {
        const seg = pattern[p]!;
        if (seg.startsWith(':') && (seg.endsWith('+') || seg.endsWith('*'))) {
          const take = segments.length - i - (pattern.length - p - 1);
          if (take < (seg.endsWith('+') ? 1 : 0)) return false;
          params[seg.slice(1, -1)] = segments.slice(i, i + take).join('/');
          return from(p + 1, i + take);
        }
        if (i >= segments.length) return false;
        if (seg.startsWith(':')) {
          if (segments[i] === '') return false;
          params[seg.slice(1)] = segments[i]!;
        } else if (seg !== segments[i]) return false;
      }
      return i === segments.length;
    };
    if (from(0, 0)) return { pattern: s.pattern, params };
  }
  return undefined;
}

const answer = (paths: PathSpec[], relative: string) => {
  const m = matchPath(paths, relative);
  return m && { pattern: m.spec.pattern, params: m.params };
};

describe('path matching', () => {
  const kv = ['config', 'data/:path+', 'delete/:path+', 'metadata/:path*', ':name', 'tune/:path+/tune', ''].map(spec);

  it('tries declarations in order, a parameter-first one among those starting with a literal', () => {
    expect(answer(kv, 'config')).toEqual({ pattern: 'config', params: {} });
    // `:name` is declared after `config`: it takes any other single segment, `data` included.
    expect(answer(kv, 'other')).toEqual({ pattern: ':name', params: { name: 'other' } });
    expect(answer(kv, 'data')).toEqual({ pattern: ':name', params: { name: 'data' } });
    expect(answer(kv, '')).toEqual({ pattern: '', params: {} });
    const first = [':name', 'config'].map(spec);
    expect(answer(first, 'config')).toEqual({ pattern: ':name', params: { name: 'config' } });
  });

  it('gives a rest parameter its segments with their slashes, up to a literal suffix', () => {
    expect(answer(kv, 'data/a/b/c')).toEqual({ pattern: 'data/:path+', params: { path: 'a/b/c' } });
    expect(answer(kv, 'tune/a/b/tune')).toEqual({ pattern: 'tune/:path+/tune', params: { path: 'a/b' } });
    expect(answer(kv, 'tune/tune')).toBeUndefined();
    expect(answer(kv, 'metadata')).toEqual({ pattern: 'metadata/:path*', params: { path: '' } });
    expect(answer(kv, 'metadata/x/y')).toEqual({ pattern: 'metadata/:path*', params: { path: 'x/y' } });
    // `delete` alone is not `delete/:path+`: it falls to the single-segment `:name`.
    expect(answer(kv, 'delete')).toEqual({ pattern: ':name', params: { name: 'delete' } });
  });

  it('answers as the plain rule does for any declarations and path', () => {
    const word = fc.constantFrom('a', 'b', 'data', 'x-1', 'é', '');
    const segment = fc.oneof(word, fc.constantFrom(':p', ':q', ':r+', ':s*'));
    const patterns = fc.array(fc.array(segment, { maxLength: 4 }).map((s) => s.join('/')), { minLength: 1, maxLength: 6 });
    const path = fc.array(word, { maxLength: 5 }).map((s) => s.join('/'));
    fc.assert(
      fc.property(patterns, path, (declared, relative) => {
        // One parameter name per pattern, as declarations have.
        const paths = declared.map((p) => spec(p.split('/').map((s, k) => (s.startsWith(':') ? `${s.slice(0, 2)}${k}${s.slice(2)}` : s)).join('/')));
        expect(answer(paths, relative)).toEqual(reference(paths, relative));
      }),
      { numRuns: 3000 },
    );
  });

  it('sees declarations added to a list it has already matched against', () => {
    const paths = ['a'].map(spec);
    expect(answer(paths, 'b')).toBeUndefined();
    paths.push(spec('b'));
    expect(answer(paths, 'b')).toEqual({ pattern: 'b', params: {} });
  });
});
