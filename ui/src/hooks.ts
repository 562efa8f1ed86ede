import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { describeError } from './api';

export interface Loaded<T> {
  data: T | undefined;
  error: string | undefined;
  /** The raw error, to tell a 403 or 404 apart. */
  failure: unknown;
  loading: boolean;
  reload: () => Promise<void>;
}

/**
 * Loads `fetcher` now, whenever `deps` change, and every `pollMs` (live pages: the overview and
 * the destination page poll every 2 s). Requests never overlap; the last answer wins.
 */
export function useLoad<T>(fetcher: () => Promise<T>, deps: unknown[], pollMs?: number): Loaded<T> {
  const [state, setState] = useState<{ data?: T; error?: string; failure?: unknown; loading: boolean }>({ loading: true });
  const busy = useRef(false);
  const alive = useRef(true);
  const fetcherRef = useRef(fetcher);
  fetcherRef.current = fetcher;
  const reload = useCallback(async () => {
    if (busy.current) return;
    busy.current = true;
    try {
      const data = await fetcherRef.current();
      if (alive.current) setState({ data, loading: false });
    } catch (err) {
      if (alive.current) setState((s) => ({ data: s.data, error: describeError(err), failure: err, loading: false }));
    } finally {
      busy.current = false;
    }
  }, []);
  useEffect(() => {
    alive.current = true;
    setState({ loading: true });
    void reload();
    const timer = pollMs ? setInterval(() => void reload(), pollMs) : undefined;
    return () => {
      alive.current = false;
      if (timer) clearInterval(timer);
    };
  }, deps);
  return { data: state.data, error: state.error, failure: state.failure, loading: state.loading, reload };
}

/** The document title, as a page sets it. */
export function useTitle(title: string): void {
  useEffect(() => {
    document.title = `${title} · Ferry`;
  }, [title]);
}
