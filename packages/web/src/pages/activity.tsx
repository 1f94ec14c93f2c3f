import type { CatalogEvent, EventType } from '@nestor/sdk/browser';
import { EVENT_TYPES } from '@nestor/sdk/browser';
import { useState } from 'preact/hooks';
import { api, describeError } from '../api.js';
import { ErrorNote } from '../components/badges.js';
import { formatTime, useAsync, useEvents } from '../hooks.js';
import { componentPath } from '../router.js';

/** Events replayed from the log when the page opens, and most kept in view. */
const BACKLOG = 200;
const KEEP = 1000;

export function ActivityPage() {
  const [events, setEvents] = useState<CatalogEvent[]>([]);
  const [type, setType] = useState<EventType | ''>('');
  const [text, setText] = useState('');
  const [paused, setPaused] = useState(false);
  // Where to start: the catalog revision now, minus a backlog.
  const start = useAsync(async (signal) => {
    const page = await api().listComponents({ limit: 1 }, { signal });
    return Math.max(0, (page.revision ?? 0) - BACKLOG);
  }, []);
  useEvents(
    start.data === undefined ? null : {},
    {
      onEvent: (e) => {
        if (!paused) setEvents((list) => [e, ...list].slice(0, KEEP));
      },
      onReset: () => setEvents([]),
    },
    [start.data],
    start.data,
  );

  const needle = text.trim().toLowerCase();
  const shown = events.filter(
    (e) => (type === '' || e.type === type) && (needle === '' || e.subject.name.toLowerCase().includes(needle)),
  );

  return (
    <section class="page" aria-labelledby="activity-title">
      <h1 id="activity-title">Activity</h1>
      <p class="muted">Every change to the catalog, live from the event stream.</p>
      {start.error ? <ErrorNote message={describeError(start.error)} onRetry={start.reload} /> : null}
      <form class="filters" onSubmit={(e) => e.preventDefault()}>
        <label>
          <span>Event type</span>
          <select value={type} onChange={(e) => setType(e.currentTarget.value as EventType | '')}>
            <option value="">All events</option>
            {EVENT_TYPES.map((t) => (
              <option key={t} value={t}>
                {t}
              </option>
            ))}
          </select>
        </label>
        <label>
          <span>Name contains</span>
          <input type="search" value={text} onInput={(e) => setText(e.currentTarget.value)} />
        </label>
        <button type="button" aria-pressed={paused} onClick={() => setPaused(!paused)}>
          {paused ? 'Resume' : 'Pause'}
        </button>
      </form>
      <p class="count" aria-live="polite">
        {shown.length} of {events.length} events{paused ? ' (paused)' : ''}
      </p>
      <ol class="events" aria-label="Events">
        {shown.map((e) => (
          <li key={e.id}>
            <span class={`badge type-${e.type.split('.')[0]}`}>{e.type}</span>{' '}
            {e.type.startsWith('component.') ? (
              <a href={componentPath(e.subject.name, e.subject.version)}>
                {e.subject.name}
                {e.subject.version ? ` ${e.subject.version}` : ''}
              </a>
            ) : (
              <a href={e.type.startsWith('engine.') ? '/engines' : '/sources'}>{e.subject.name}</a>
            )}{' '}
            <span class="muted small">
              #{e.id} · <time dateTime={e.time}>{formatTime(e.time)}</time>
            </span>
            <Detail e={e} />
          </li>
        ))}
      </ol>
    </section>
  );
}

function Detail({ e }: { e: CatalogEvent }) {
  const d = e.data as Record<string, unknown>;
  if (e.type === 'engine.health_changed' && typeof d['health'] === 'string') {
    return <span class="small"> → {d['health'] as string}</span>;
  }
  if (e.type === 'component.deprecated') {
    const c = d['component'] as { deprecated?: { reason?: string } | null } | undefined;
    if (c?.deprecated?.reason) return <span class="small"> — {c.deprecated.reason}</span>;
  }
  return null;
}
