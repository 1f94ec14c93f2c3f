import type {
  ComponentDefinition,
  DeploymentEngine,
  InputSpec,
  OutputSpec,
  VersionDiff,
  VersionSummary,
} from '@nestor/sdk/browser';
import { NestorError } from '@nestor/sdk/browser';
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { api, describeError } from '../api.js';
import { Badges, ErrorNote, HealthBadge, revocationOf } from '../components/badges.js';
import { DependencyGraph } from '../components/graph.js';
import { Scroll } from '../components/scroll.js';
import type { GraphEdge, GraphNode } from '../graph-layout.js';
import { formatTime, relativeTime, useAsync, useEvents, useThrottled } from '../hooks.js';
import { componentPath } from '../router.js';

/** Versions whose changes are fetched at first; more on request. */
const TIMELINE_STEP = 8;
/** Dependents drawn in the graph (all are listed in their section). */
const GRAPH_DEPENDENTS = 24;

export function ComponentPage({ name, version }: { name: string; version: string | null }) {
  const main = useAsync(
    async (signal) => {
      const [component, history] = await Promise.all([
        version === null
          ? api().getComponent(name, {}, { signal })
          : api()
              .getComponentVersion(name, version, {}, { signal })
              .then((r) => r.component as ComponentDefinition),
        api().getVersions(name, { signal }),
      ]);
      return { component, versions: history.versions };
    },
    [name, version],
  );
  const reload = useThrottled(main.reload, 500);
  useEvents({ names: [name] }, { onEvent: reload, onReset: reload }, [name]);

  if (main.error && !main.data) {
    const notFound = NestorError.is(main.error) && main.error.code === 'component_not_found';
    return (
      <section class="page">
        <h1>{name}</h1>
        <ErrorNote
          message={
            notFound
              ? `There is no component named “${name}”${version ? ` at ${version}` : ''}.`
              : describeError(main.error)
          }
          onRetry={notFound ? undefined : main.reload}
        />
        <p>
          <a href="/">Back to the catalog</a>
        </p>
      </section>
    );
  }
  if (!main.data) {
    return (
      <section class="page" aria-busy="true">
        <h1>{name}</h1>
        <p class="muted">Loading…</p>
      </section>
    );
  }
  const { component: c, versions } = main.data;
  return (
    <article class="page component">
      <nav class="crumbs" aria-label="Breadcrumb">
        <a href="/">Catalog</a> / <span>{c.name}</span>
      </nav>
      <header class="component-head">
        <h1>{c.name}</h1>
        <p class="head-line">
          <span class="version big">{c.version}</span> <Badges c={c} />
          {version === null ? <span class="muted small"> latest</span> : null}
        </p>
        <Lifecycle c={c} />
        {c.description ? <p class="description">{c.description}</p> : null}
        <dl class="facts">
          <dt>Provider</dt>
          <dd>{c.provider}</dd>
          <dt>Category</dt>
          <dd>{c.category}</dd>
          <dt>Resource type</dt>
          <dd>{c.resource_type}</dd>
          <dt>Published</dt>
          <dd title={c.created_at}>{formatTime(c.created_at)}</dd>
          {Object.keys(c.labels).length > 0 ? (
            <>
              <dt>Labels</dt>
              <dd>
                {Object.entries(c.labels).map(([k, v]) => (
                  <span class="chip" key={k}>{`${k}=${v}`}</span>
                ))}
              </dd>
            </>
          ) : null}
        </dl>
        <Engines names={c.deployment_engines} />
      </header>
      <div class="component-grid">
        <Timeline c={c} versions={versions} />
        <FieldTable
          title="Inputs"
          inputs={[
            ...c.required_inputs.map((i) => ({ ...i, required: true })),
            ...c.optional_inputs.map((i) => ({ ...i, required: false })),
          ]}
        />
        <FieldTable title="Outputs" outputs={c.outputs} />
        <Dependencies c={c} />
        <Dependents name={c.name} />
        <Graph c={c} />
        <Impact c={c} />
        <Provenance c={c} />
        <Snippet c={c} />
      </div>
    </article>
  );
}

function Region({ title, children, wide = false }: { title: string; children: ComponentChildren; wide?: boolean }) {
  const id = `sec-${title.toLowerCase().replace(/[^a-z]+/g, '-')}`;
  return (
    <section class={wide ? 'card wide' : 'card'} aria-labelledby={id}>
      <h2 id={id}>{title}</h2>
      {children}
    </section>
  );
}

function Lifecycle({ c }: { c: ComponentDefinition }) {
  const revoked = revocationOf(c);
  if (revoked) {
    return (
      <div class="banner danger" role="note">
        <strong>Revoked</strong> {relativeTime(revoked.at)}: {revoked.reason}. Resolution never picks this version.
      </div>
    );
  }
  if (c.deprecated) {
    return (
      <div class="banner warn" role="note">
        <strong>Deprecated</strong> {relativeTime(c.deprecated.at)}: {c.deprecated.reason}
      </div>
    );
  }
  return null;
}

function Engines({ names }: { names: string[] }) {
  const engines = useAsync((signal) => api().listEngines({ signal }), []);
  const reload = useThrottled(engines.reload, 1000);
  useEvents(
    { types: ['engine.health_changed', 'engine.registered', 'engine.removed'] },
    { onEvent: reload, onReset: reload },
    [],
  );
  if (names.length === 0) return <p class="muted">Deployable by any engine (none named).</p>;
  const byName = new Map((engines.data ?? []).map((e: DeploymentEngine) => [e.name, e]));
  return (
    <ul class="engines-inline" aria-label="Deployment engines">
      {names.map((n) => {
        const e = byName.get(n);
        return (
          <li key={n}>
            <a href="/engines">{n}</a>{' '}
            {e ? (
              <HealthBadge health={e.health} />
            ) : engines.data ? (
              <span class="badge muted">not registered</span>
            ) : null}
          </li>
        );
      })}
    </ul>
  );
}

function Timeline({ c, versions }: { c: ComponentDefinition; versions: VersionSummary[] }) {
  const [shown, setShown] = useState(TIMELINE_STEP);
  const visible = versions.slice(0, shown);
  const diffs = useAsync(
    async (signal) => {
      const pairs = visible.map((v, i) => [v.version, versions[i + 1]?.version] as const);
      const results = await Promise.all(
        pairs.map(([to, from]) =>
          from
            ? api()
                .diff(c.name, from, to, { signal })
                .catch((): VersionDiff | null => null)
            : Promise.resolve(null),
        ),
      );
      return new Map(pairs.map(([to], i) => [to, results[i] ?? null]));
    },
    [c.name, shown, versions.map((v) => v.version).join(',')],
  );
  return (
    <Region title="Versions" wide>
      <ol class="timeline">
        {visible.map((v, i) => {
          const diff = diffs.data?.get(v.version);
          const previous = versions[i + 1];
          return (
            <li key={v.version} class={v.version === c.version ? 'current' : undefined}>
              <div class="tl-head">
                <a href={componentPath(c.name, v.version)} aria-current={v.version === c.version ? 'page' : undefined}>
                  {v.version}
                </a>
                {diff ? <span class={`badge bump-${diff.bump_made}`}>{diff.bump_made}</span> : null}
                {v.deprecated ? <span class="badge warn">deprecated</span> : null}
                <span class="muted small" title={v.created_at}>
                  {formatTime(v.created_at)}
                </span>
              </div>
              {!previous ? (
                <p class="muted small">First version.</p>
              ) : diff === undefined ? (
                <p class="muted small">Loading changes…</p>
              ) : diff === null ? (
                <p class="muted small">Changes since {previous.version} could not be loaded.</p>
              ) : diff.changes.length === 0 ? (
                <p class="muted small">No interface change since {previous.version}.</p>
              ) : (
                <ul class="changes">
                  {diff.changes.map((ch) => (
                    <li key={`${ch.kind}:${ch.path}`}>
                      <span class={`badge bump-${ch.bump}`}>{ch.bump}</span> {ch.message}
                    </li>
                  ))}
                </ul>
              )}
            </li>
          );
        })}
      </ol>
      {versions.length > shown ? (
        <button type="button" onClick={() => setShown(shown + TIMELINE_STEP)}>
          Show older versions ({versions.length - shown} more)
        </button>
      ) : null}
    </Region>
  );
}

type InputRow = InputSpec & { required: boolean };

function FieldTable(props: { title: 'Inputs'; inputs: InputRow[] } | { title: 'Outputs'; outputs: OutputSpec[] }) {
  const rows = props.title === 'Inputs' ? props.inputs : props.outputs;
  return (
    <Region title={props.title} wide>
      {rows.length === 0 ? (
        <p class="muted">None.</p>
      ) : (
        <Scroll className="table-scroll" label={`${props.title} table`}>
          <table>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Type</th>
                {props.title === 'Inputs' ? (
                  <>
                    <th scope="col">Required</th>
                    <th scope="col">Default</th>
                    <th scope="col">Allowed values</th>
                  </>
                ) : null}
                <th scope="col">Sensitive</th>
                <th scope="col">Description</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr key={r.name}>
                  <th scope="row">
                    <code>{r.name}</code>
                  </th>
                  <td>
                    <code>{r.type}</code>
                  </td>
                  {props.title === 'Inputs' ? (
                    <>
                      <td>{(r as InputRow).required ? 'yes' : 'no'}</td>
                      <td>
                        {(r as InputRow).default === undefined ? (
                          ''
                        ) : (
                          <code>{JSON.stringify((r as InputRow).default)}</code>
                        )}
                      </td>
                      <td>
                        {(r as InputRow).enum ? (
                          <code>{(r as InputRow).enum?.map((v) => JSON.stringify(v)).join(', ')}</code>
                        ) : (
                          ''
                        )}
                      </td>
                    </>
                  ) : null}
                  <td>{r.sensitive ? <span class="badge warn">sensitive</span> : 'no'}</td>
                  <td>{r.description ?? ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </Scroll>
      )}
    </Region>
  );
}

function Dependencies({ c }: { c: ComponentDefinition }) {
  const deps = useAsync((signal) => api().getDependencies(c.name, c.version, { signal }), [c.name, c.version]);
  return (
    <Region title="Dependencies">
      {c.dependencies.length === 0 ? (
        <p class="muted">No dependencies.</p>
      ) : deps.error ? (
        <ErrorNote message={describeError(deps.error)} onRetry={deps.reload} />
      ) : (
        <ul class="plain">
          {(deps.data ?? c.dependencies.map((d) => ({ ...d, resolved: undefined }))).map((d) => (
            <li key={d.name}>
              <a href={componentPath(d.name)}>{d.name}</a> <code>{d.version_range}</code>{' '}
              {d.resolved === undefined ? null : d.resolved === null ? (
                <span class="badge danger">no matching version</span>
              ) : (
                <>
                  → <a href={componentPath(d.name, d.resolved.version)}>{d.resolved.version}</a>
                </>
              )}
            </li>
          ))}
        </ul>
      )}
    </Region>
  );
}

function Dependents({ name }: { name: string }) {
  const deps = useAsync((signal) => api().getDependents(name, { signal }), [name]);
  return (
    <Region title="Dependents">
      {deps.error ? (
        <ErrorNote message={describeError(deps.error)} onRetry={deps.reload} />
      ) : !deps.data ? (
        <p class="muted">Loading…</p>
      ) : deps.data.length === 0 ? (
        <p class="muted">Nothing depends on {name}.</p>
      ) : (
        <ul class="plain">
          {deps.data.map((d) => (
            <li key={`${d.name}@${d.version}`}>
              <a href={componentPath(d.name, d.version)}>
                {d.name} {d.version}
              </a>{' '}
              <code>{d.version_range}</code>
            </li>
          ))}
        </ul>
      )}
    </Region>
  );
}

function Graph({ c }: { c: ComponentDefinition }) {
  const graph = useAsync(
    async (signal) => {
      const focusId = `${c.name}@${c.version}`;
      const nodes = new Map<string, GraphNode>([
        [focusId, { id: focusId, name: c.name, version: c.version, focus: true }],
      ]);
      const edges: GraphEdge[] = [];
      const [closure, dependents] = await Promise.all([
        api()
          .resolve({ constraints: [{ name: c.name, range: c.version, from: 'catalog-browser' }] }, { signal })
          .catch(() => null),
        api().getDependents(c.name, { signal }),
      ]);
      if (closure) {
        for (const r of closure) {
          const id = `${r.name}@${r.version}`;
          if (!nodes.has(id)) nodes.set(id, { id, name: r.name, version: r.version });
          for (const by of r.required_by)
            if (by.from !== 'catalog-browser') edges.push({ from: by.from, to: id, label: by.range });
        }
      } else {
        // The closure does not resolve (a conflict): draw the direct dependencies by name.
        for (const d of c.dependencies) {
          nodes.set(d.name, { id: d.name, name: d.name, version: null });
          edges.push({ from: focusId, to: d.name, label: d.version_range });
        }
      }
      for (const d of dependents.slice(0, GRAPH_DEPENDENTS)) {
        const id = `${d.name}@${d.version}`;
        if (!nodes.has(id)) nodes.set(id, { id, name: d.name, version: d.version });
        edges.push({ from: id, to: focusId, label: d.version_range });
      }
      return { nodes: [...nodes.values()], edges, more: Math.max(0, dependents.length - GRAPH_DEPENDENTS) };
    },
    [c.name, c.version],
  );
  return (
    <Region title="Dependency graph" wide>
      {graph.error ? (
        <ErrorNote message={describeError(graph.error)} onRetry={graph.reload} />
      ) : !graph.data ? (
        <p class="muted">Loading…</p>
      ) : graph.data.nodes.length === 1 ? (
        <p class="muted">{c.name} has no dependencies and no dependents.</p>
      ) : (
        <>
          <DependencyGraph nodes={graph.data.nodes} edges={graph.data.edges} />
          {graph.data.more > 0 ? (
            <p class="muted small">{graph.data.more} more dependents are listed under Dependents.</p>
          ) : null}
        </>
      )}
    </Region>
  );
}

function Impact({ c }: { c: ComponentDefinition }) {
  const impact = useAsync((signal) => api().impact(c.name, c.version, { signal }), [c.name, c.version]);
  return (
    <Region title="Impact">
      {impact.error ? (
        <ErrorNote message={describeError(impact.error)} onRetry={impact.reload} />
      ) : !impact.data ? (
        <p class="muted">Loading…</p>
      ) : impact.data.items.length === 0 ? (
        <p class="muted">No published version depends on a range that admits {c.version}.</p>
      ) : (
        <>
          <p>
            {impact.data.items.length} dependent version{impact.data.items.length === 1 ? '' : 's'} admit {c.version};{' '}
            {impact.data.items.filter((i) => i.selected).length} resolve to it today.
          </p>
          <ul class="plain">
            {impact.data.items.map((i) => (
              <li key={`${i.name}@${i.version}`}>
                <a href={componentPath(i.name, i.version)}>
                  {i.name} {i.version}
                </a>{' '}
                <code>{i.version_range}</code> {i.selected ? <span class="badge ok">selects it</span> : null}
              </li>
            ))}
          </ul>
        </>
      )}
    </Region>
  );
}

function Provenance({ c }: { c: ComponentDefinition }) {
  return (
    <Region title="Provenance">
      {c.git_repository || c.git_commit || c.git_path ? (
        <dl class="facts">
          <dt>Repository</dt>
          <dd>{c.git_repository ? <code>{c.git_repository}</code> : 'unknown'}</dd>
          <dt>Commit</dt>
          <dd>{c.git_commit ? <code>{c.git_commit}</code> : 'unknown'}</dd>
          <dt>Path</dt>
          <dd>{c.git_path ? <code>{c.git_path}</code> : 'unknown'}</dd>
        </dl>
      ) : (
        <p class="muted">Published through the API (no git provenance recorded).</p>
      )}
      <p class="muted small">
        Digest <code class="wrap">{c.digest}</code>
      </p>
    </Region>
  );
}

function Snippet({ c }: { c: ComponentDefinition }) {
  const [copied, setCopied] = useState<string | null>(null);
  const major = c.version.split('.')[0];
  const range = major === '0' ? `~${c.version}` : `^${c.version}`;
  const snippets = [
    {
      id: 'yaml',
      title: 'As a dependency in component.yaml',
      text: `dependencies:\n  - name: ${c.name}\n    version_range: "${range}"`,
    },
    {
      id: 'sdk',
      title: 'Pinned by a processor (@nestor/sdk)',
      text: `import { NestorClient } from '@nestor/sdk';\n\nconst client = new NestorClient({ baseUrl: '${location.origin}', token: process.env.NESTOR_TOKEN });\nconst ${camel(c.name)} = await client.resolve('${c.name}', '${range}'); // ${c.version} today`,
    },
  ];
  const copy = async (id: string, text: string) => {
    try {
      await navigator.clipboard.writeText(text);
      setCopied(id);
    } catch {
      setCopied(`${id}:failed`);
    }
  };
  return (
    <Region title="Use it" wide>
      {snippets.map((s) => (
        <div class="snippet" key={s.id}>
          <div class="snippet-head">
            <h3>{s.title}</h3>
            <button type="button" onClick={() => copy(s.id, s.text)} aria-label={`Copy: ${s.title}`}>
              {copied === s.id ? 'Copied' : 'Copy'}
            </button>
          </div>
          <pre>
            <code>{s.text}</code>
          </pre>
          {copied === `${s.id}:failed` ? (
            <p class="muted small">Copying was refused; select the text instead.</p>
          ) : null}
        </div>
      ))}
    </Region>
  );
}

function camel(name: string): string {
  return name.replace(/-([a-z0-9])/g, (_, ch: string) => ch.toUpperCase()).replace(/^[0-9]/, (d) => `_${d}`);
}
