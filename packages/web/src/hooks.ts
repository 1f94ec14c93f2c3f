import type { CatalogEvent, StreamFilter } from '@nestor/sdk/browser';
import { useEffect, useRef, useState } from 'preact/hooks';
import { follow, noteError } from './api.js';

export interface AsyncState<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  /** Loads again, keeping what is shown until the answer arrives. */
  reload: () => void;
}

/** Runs `load` when `deps` change (aborting the previous run); errors are state, never thrown. */
export function useAsync<T>(load: (signal: AbortSignal) => Promise<T>, deps: unknown[]): AsyncState<T> {
  const [state, setState] = useState<{ data: T | undefined; error: unknown; loading: boolean }>({
    data: undefined,
    error: undefined,
    loading: true,
  });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    const controller = new AbortController();
    setState((s) => ({ ...s, loading: true }));
    load(controller.signal).then(
      (data) => {
        if (!controller.signal.aborted) setState({ data, error: undefined, loading: false });
      },
      (error: unknown) => {
        if (controller.signal.aborted) return;
        noteError(error);
        setState((s) => ({ data: s.data, error, loading: false }));
      },
    );
    return () => controller.abort();
  }, [...deps, tick]);
  return { ...state, reload: () => setTick((t) => t + 1) };
}

/**
 * Calls `onEvent` for every catalog event matching `filter` while the page is shown, from now on
 * (or after `since`), and `onReset` when events were missed (the page should reload what it shows).
 * The latest handlers are used without restarting the stream; `deps` restart it.
 */
export function useEvents(
  filter: StreamFilter | null,
  handlers: { onEvent: (event: CatalogEvent) => void; onReset?: () => void },
  deps: unknown[],
  since?: number,
): void {
  const latest = useRef(handlers);
  latest.current = handlers;
  useEffect(() => {
    if (filter === null) return;
    const controller = new AbortController();
    follow({
      since,
      filter,
      signal: controller.signal,
      onEvent: (e) => latest.current.onEvent(e),
      onReset: () => latest.current.onReset?.(),
    });
    return () => controller.abort();
  }, deps);
}

/** Calls `fn` at most once per `ms`, with the last arguments (a trailing-edge throttle). */
export function useThrottled(fn: () => void, ms: number): () => void {
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const latest = useRef(fn);
  latest.current = fn;
  useEffect(
    () => () => {
      if (timer.current) clearTimeout(timer.current);
    },
    [],
  );
  return () => {
    if (timer.current) return;
    timer.current = setTimeout(() => {
      timer.current = null;
      latest.current();
    }, ms);
  };
}

/** Formats an ISO time as a short local date and time. */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) return 'never';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

/** "3 min ago" style time, with the exact time kept for the title. */
export function relativeTime(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return 'never';
  const t = new Date(iso).getTime();
  if (Number.isNaN(t)) return iso;
  const s = Math.round((now - t) / 1000);
  if (s < 5) return 'just now';
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86_400) return `${Math.round(s / 3600)} h ago`;
  return formatTime(iso);
}
