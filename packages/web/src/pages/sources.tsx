import type { SourceStatus } from '@nestor/sdk/browser';
import { api, describeError } from '../api.js';
import { ErrorNote } from '../components/badges.js';
import { Scroll } from '../components/scroll.js';
import { formatTime, relativeTime, useAsync, useEvents, useThrottled } from '../hooks.js';

/** Design 10.10: a blocked sync names the orphans it would have left. */
type Source = Omit<SourceStatus, 'state'> & {
  state: SourceStatus['state'] | 'blocked';
  blocked?: { orphans: number; total: number; ratio: number } | null;
};

export function SourcesPage() {
  const sources = useAsync((signal) => api().listSources({ signal }) as Promise<Source[]>, []);
  const reload = useThrottled(sources.reload, 1000);
  useEvents({ types: ['source.synced'] }, { onEvent: reload, onReset: reload }, []);
  return (
    <section class="page" aria-labelledby="sources-title">
      <h1 id="sources-title">Sources</h1>
      <p class="muted">Git repositories and folders the catalog syncs components from.</p>
      {sources.error ? <ErrorNote message={describeError(sources.error)} onRetry={sources.reload} /> : null}
      {!sources.data ? (
        sources.error ? null : (
          <p class="muted">Loading…</p>
        )
      ) : sources.data.length === 0 ? (
        <p class="empty">No source is configured.</p>
      ) : (
        sources.data.map((s) => <SourceCard key={s.name} s={s} />)
      )}
    </section>
  );
}

function SourceCard({ s }: { s: Source }) {
  const id = `source-${s.name}`;
  const stateClass = s.state === 'failed' || s.state === 'blocked' ? 'danger' : s.state === 'syncing' ? 'warn' : 'ok';
  return (
    <section class="card" aria-labelledby={id}>
      <h2 id={id}>
        {s.name} <span class={`badge ${stateClass}`}>{s.state}</span>
      </h2>
      <dl class="facts">
        <dt>{s.type === 'git' ? 'Repository' : 'Folder'}</dt>
        <dd>
          <code class="wrap">{s.url}</code>
          {s.branch ? ` (${s.branch})` : ''}
        </dd>
        <dt>Last sync</dt>
        <dd title={s.last_sync_at ?? undefined}>
          {relativeTime(s.last_sync_at)}
          {s.last_duration_ms !== null ? ` in ${s.last_duration_ms} ms` : ''}
        </dd>
        <dt>Commit</dt>
        <dd>{s.last_commit ? <code>{s.last_commit}</code> : <span class="muted">none</span>}</dd>
        <dt>Files</dt>
        <dd>
          {s.counts.files} files, {s.counts.versions} versions; last sync created {s.counts.created},{' '}
          {s.counts.unchanged} unchanged, {s.counts.failed} failed, {s.counts.conflicts} conflicts
        </dd>
      </dl>
      {s.blocked ? (
        <div class="banner danger" role="note">
          <strong>Sync blocked</strong>: it would orphan {s.blocked.orphans} of {s.blocked.total} versions (
          {Math.round(s.blocked.ratio * 100)}%). An operator must confirm it.
        </div>
      ) : null}
      {s.last_error ? (
        <div class="banner danger" role="note">
          <strong>Sync failed</strong> {formatTime(s.last_error.at)}: {s.last_error.message} (
          <code>{s.last_error.code}</code>)
        </div>
      ) : null}
      {s.errors.length > 0 ? (
        <Scroll className="table-scroll" label={`Errors of ${s.name}`}>
          <table>
            <caption>Per-file errors of the last sync</caption>
            <thead>
              <tr>
                <th scope="col">File</th>
                <th scope="col">Line</th>
                <th scope="col">Code</th>
                <th scope="col">Message</th>
              </tr>
            </thead>
            <tbody>
              {s.errors.map((e) => (
                <tr key={`${e.path}:${e.line}:${e.code}`}>
                  <th scope="row">
                    <code class="wrap">{e.path}</code>
                  </th>
                  <td>{e.line === null ? '–' : `${e.line}${e.column === null ? '' : `:${e.column}`}`}</td>
                  <td>
                    <code>{e.code}</code>
                  </td>
                  <td>{e.message}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </Scroll>
      ) : (
        <p class="muted small">No per-file errors.</p>
      )}
    </section>
  );
}
