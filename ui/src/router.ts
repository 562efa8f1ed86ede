import { useEffect, useState } from 'preact/hooks';

/**
 * A small History-API router: the UI's pages live under `/ui/` and Ferry answers every such
 * path with the application. Only names (destinations, mounts, secret paths) ever appear in a
 * URL, never a value.
 */
const BASE = '/ui';
const listeners = new Set<() => void>();

export interface Route {
  /** The path below `/ui` (`/sync/aws-sm/prod`). */
  path: string;
  query: URLSearchParams;
}

export function currentRoute(): Route {
  const path = location.pathname.startsWith(BASE) ? location.pathname.slice(BASE.length) || '/' : '/';
  return { path, query: new URLSearchParams(location.search) };
}

export function href(path: string, query?: Record<string, string>): string {
  const q = query ? `?${new URLSearchParams(query).toString()}` : '';
  return `${BASE}${path}${q}`;
}

export function navigate(to: string, replace = false): void {
  if (replace) history.replaceState(null, '', to);
  else history.pushState(null, '', to);
  for (const l of listeners) l();
}

addEventListener('popstate', () => {
  for (const l of listeners) l();
});

export function useRoute(): Route {
  const [route, setRoute] = useState(currentRoute);
  useEffect(() => {
    const update = () => setRoute(currentRoute());
    listeners.add(update);
    return () => void listeners.delete(update);
  }, []);
  return route;
}
