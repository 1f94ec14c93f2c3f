import type { ComponentChildren } from 'preact';
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';

export interface VirtualListProps<T> {
  items: readonly T[];
  /** Fixed height of a row in CSS pixels (rows are laid out absolutely). */
  rowHeight: number;
  /** The key of an item (stable across reloads). */
  keyOf: (item: T) => string;
  renderRow: (item: T, index: number) => ComponentChildren;
  /** Total when known (more items than loaded); sets `aria-setsize`. */
  total?: number | undefined;
  /** Called when the view nears the end of what is loaded. */
  onNearEnd?: () => void;
  label: string;
  /** Extra rows rendered above and below the visible ones. */
  overscan?: number;
}

/**
 * A list that renders only the rows in view (plus a few): 10 000 items cost the DOM about
 * 30 rows. Arrow keys, Home and End move the focus between rows' links, scrolling as needed.
 */
export function VirtualList<T>(props: VirtualListProps<T>) {
  const { items, rowHeight, overscan = 6 } = props;
  const scroller = useRef<HTMLDivElement>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const [height, setHeight] = useState(600);
  const focusIndex = useRef<number | null>(null);

  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el) return;
    setHeight(el.clientHeight || 600);
    const observer = new ResizeObserver(() => setHeight(el.clientHeight || 600));
    observer.observe(el);
    const onScroll = () => setScrollTop(el.scrollTop);
    el.addEventListener('scroll', onScroll, { passive: true });
    return () => {
      observer.disconnect();
      el.removeEventListener('scroll', onScroll);
    };
  }, []);

  // Keys reach the list from the focused link inside it; the handler sees the latest items.
  const keyHandler = useRef<(e: KeyboardEvent) => void>(() => {});
  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el) return;
    const onKey = (e: KeyboardEvent) => keyHandler.current(e);
    el.addEventListener('keydown', onKey);
    return () => el.removeEventListener('keydown', onKey);
  }, []);

  const first = Math.max(0, Math.floor(scrollTop / rowHeight) - overscan);
  const last = Math.min(items.length, Math.ceil((scrollTop + height) / rowHeight) + overscan);

  useEffect(() => {
    if (props.onNearEnd && last >= items.length - overscan * 2) props.onNearEnd();
  }, [last, items.length, props.onNearEnd, overscan]);

  // After a keyboard move rendered the target row, give it the focus.
  useEffect(() => {
    const index = focusIndex.current;
    if (index === null) return;
    const link = scroller.current?.querySelector<HTMLElement>(`[data-index="${index}"] a`);
    if (link) {
      focusIndex.current = null;
      link.focus({ preventScroll: true });
    }
  });

  const moveTo = (index: number) => {
    const el = scroller.current;
    if (!el || items.length === 0) return;
    const target = Math.max(0, Math.min(items.length - 1, index));
    const top = target * rowHeight;
    if (top < el.scrollTop) el.scrollTop = top;
    else if (top + rowHeight > el.scrollTop + el.clientHeight) el.scrollTop = top + rowHeight - el.clientHeight;
    focusIndex.current = target;
    setScrollTop(el.scrollTop);
    const link = el.querySelector<HTMLElement>(`[data-index="${target}"] a`);
    if (link) {
      focusIndex.current = null;
      link.focus({ preventScroll: true });
    }
  };

  const onKeyDown = (e: KeyboardEvent) => {
    const row = (e.target as Element).closest<HTMLElement>('[data-index]');
    const current = row ? Number(row.dataset['index']) : -1;
    const page = Math.max(1, Math.floor(height / rowHeight) - 1);
    const moves: Record<string, number> = {
      ArrowDown: current + 1,
      ArrowUp: current - 1,
      PageDown: current + page,
      PageUp: current - page,
      Home: 0,
      End: items.length - 1,
    };
    const next = moves[e.key];
    if (next === undefined) return;
    e.preventDefault();
    moveTo(next);
  };

  keyHandler.current = onKeyDown;

  const rows: ComponentChildren[] = [];
  for (let i = first; i < last; i++) {
    const item = items[i] as T;
    rows.push(
      <li
        key={props.keyOf(item)}
        data-index={i}
        aria-setsize={props.total ?? items.length}
        aria-posinset={i + 1}
        style={{ transform: `translateY(${i * rowHeight}px)`, height: `${rowHeight}px` }}
      >
        {props.renderRow(item, i)}
      </li>,
    );
  }

  return (
    <div class="vlist" ref={scroller}>
      <ul aria-label={props.label} style={{ height: `${items.length * rowHeight}px` }}>
        {rows}
      </ul>
    </div>
  );
}
