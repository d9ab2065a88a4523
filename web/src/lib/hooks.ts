// Data loading: one small hook instead of a query library.
import { useCallback, useEffect, useRef, useState, type DependencyList } from "react";

export interface Loaded<T> {
  data: T | undefined;
  error: Error | undefined;
  loading: boolean;
  /** Loads again (keeps showing the current data meanwhile). */
  reload: () => void;
  /** Replaces the data locally (after a write answered with the new row). */
  setData: (fn: (d: T | undefined) => T | undefined) => void;
}

/**
 * Runs `load` now and whenever `deps` change; with `pollMs`, again at that
 * interval while the page is visible (live boards, running tasks).
 */
export function useLoad<T>(load: (signal: AbortSignal) => Promise<T>, deps: DependencyList, pollMs?: number): Loaded<T> {
  const [data, setDataState] = useState<T>();
  const [error, setError] = useState<Error>();
  const [loading, setLoading] = useState(true);
  const [tick, setTick] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;

  useEffect(() => {
    const ctl = new AbortController();
    setLoading(true);
    loadRef
      .current(ctl.signal)
      .then((d) => {
        if (ctl.signal.aborted) return;
        setDataState(d);
        setError(undefined);
      })
      .catch((e: Error) => {
        if (ctl.signal.aborted || e.name === "AbortError") return;
        setError(e);
      })
      .finally(() => {
        if (!ctl.signal.aborted) setLoading(false);
      });
    return () => ctl.abort();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, tick]);

  useEffect(() => {
    if (!pollMs) return;
    const id = window.setInterval(() => {
      if (document.visibilityState === "visible") setTick((t) => t + 1);
    }, pollMs);
    return () => window.clearInterval(id);
  }, [pollMs]);

  const reload = useCallback(() => setTick((t) => t + 1), []);
  const setData = useCallback((fn: (d: T | undefined) => T | undefined) => setDataState((d) => fn(d)), []);
  return { data, error, loading, reload, setData };
}

/** Sets the document title while a screen is shown. */
export function useTitle(title: string) {
  useEffect(() => {
    document.title = title ? `${title} · SP Gateway` : "SP Gateway";
  }, [title]);
}
