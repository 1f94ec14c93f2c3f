import type { EngineDetail, EngineProbe } from '@nestor/sdk/browser';
import { useEffect } from 'preact/hooks';
import { api, describeError } from '../api.js';
import { ErrorNote, HealthBadge } from '../components/badges.js';
import { Scroll } from '../components/scroll.js';
import { formatTime, relativeTime, useAsync, useEvents, useThrottled } from '../hooks.js';

/** Probes land without events (only health changes are events), so the page also refreshes. */
const REFRESH_MS = 15_000;

export function EnginesPage() {
  const engines = useAsync(async (signal) => {
    const list = await api().listEngines({ signal });
    return Promise.all(list.map((e) => api().getEngine(e.name, { signal })));
  }, []);
  const reload = useThrottled(engines.reload, 1000);
  useEvents(
    { types: ['engine.health_changed', 'engine.registered', 'engine.removed'] },
    { onEvent: reload, onReset: reload },
    [],
  );
  useEffect(() => {
    const timer = setInterval(reload, REFRESH_MS);
    return () => clearInterval(timer);
  }, [reload]);

  return (
    <section class="page" aria-labelledby="engines-title">
      <h1 id="engines-title">Engines</h1>
      <p class="muted">Deployment engines components can name, with the health their probes report.</p>
      {engines.error ? <ErrorNote message={describeError(engines.error)} onRetry={engines.reload} /> : null}
      {!engines.data ? (
        engines.error ? null : (
          <p class="muted">Loading…</p>
        )
      ) : engines.data.length === 0 ? (
        <p class="empty">No engine is registered.</p>
      ) : (
        <Scroll className="table-scroll" label="Engines table">
          <table>
            <thead>
              <tr>
                <th scope="col">Engine</th>
                <th scope="col">Type</th>
                <th scope="col">Health</th>
                <th scope="col">Last probe</th>
                <th scope="col">Latency</th>
                <th scope="col">Latency history</th>
                <th scope="col">Endpoint</th>
              </tr>
            </thead>
            <tbody>
              {engines.data.map((e) => (
                <EngineRow key={e.name} e={e} />
              ))}
            </tbody>
          </table>
        </Scroll>
      )}
    </section>
  );
}

function EngineRow({ e }: { e: EngineDetail }) {
  return (
    <tr>
      <th scope="row">
        {e.name}
        {e.missing ? <span class="badge warn">missing</span> : null}
        <div class="muted small">{e.origin}</div>
      </th>
      <td>{e.type}</td>
      <td>
        <HealthBadge health={e.health} />
        {e.message ? <div class="muted small">{e.message}</div> : null}
      </td>
      <td title={e.last_checked ?? undefined}>{e.endpoint ? relativeTime(e.last_checked) : 'not probed'}</td>
      <td>{e.last_latency_ms === null ? '–' : `${e.last_latency_ms} ms`}</td>
      <td>
        <Sparkline probes={e.history} name={e.name} />
      </td>
      <td>{e.endpoint ? <code class="wrap">{e.endpoint}</code> : <span class="muted">none</span>}</td>
    </tr>
  );
}

/** Latency of the recent probes, oldest first; failed probes are red dots. */
function Sparkline({ probes, name }: { probes: EngineProbe[]; name: string }) {
  if (probes.length === 0) return <span class="muted">no probes yet</span>;
  const w = 140;
  const h = 32;
  const max = Math.max(1, ...probes.map((p) => p.latency_ms));
  const step = probes.length > 1 ? w / (probes.length - 1) : 0;
  const point = (p: EngineProbe, i: number) => [i * step, h - 2 - (p.latency_ms / max) * (h - 4)] as const;
  const path = probes.map((p, i) => `${i === 0 ? 'M' : 'L'}${point(p, i).join(',')}`).join(' ');
  const failed = probes.filter((p) => !p.ok).length;
  const last = probes[probes.length - 1] as EngineProbe;
  const summary = `${name}: ${probes.length} probes, up to ${max} ms, ${failed} failed; last ${formatTime(last.at)}`;
  return (
    <svg class="spark" width={w} height={h} viewBox={`-2 -2 ${w + 4} ${h + 4}`} role="img" aria-label={summary}>
      <path d={path} class="spark-line" />
      {probes.map((p, i) =>
        p.ok ? null : <circle key={p.at} cx={point(p, i)[0]} cy={point(p, i)[1]} r="2.5" class="spark-fail" />,
      )}
    </svg>
  );
}
