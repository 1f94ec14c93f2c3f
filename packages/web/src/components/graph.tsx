import { type GraphEdge, type GraphNode, layoutGraph } from '../graph-layout.js';
import { componentPath } from '../router.js';
import { Scroll } from './scroll.js';

/** The dependency graph as SVG; every node is a link to its component's page. */
export function DependencyGraph({ nodes, edges }: { nodes: GraphNode[]; edges: GraphEdge[] }) {
  const layout = layoutGraph(nodes, edges);
  const pad = 8;
  const width = layout.width + 2 * pad;
  const height = layout.height + 2 * pad;
  return (
    <Scroll className="graph-scroll" label="Dependency graph, scrollable">
      <svg
        class="graph"
        viewBox={`${-pad} ${-pad} ${width} ${height}`}
        width={width}
        height={height}
        aria-labelledby="graph-desc"
      >
        <title id="graph-desc">
          {`${nodes.length} components, ${edges.length} dependencies; arrows point from a component to what it depends on`}
        </title>
        <defs>
          <marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto">
            <path d="M0,0 L10,5 L0,10 z" class="arrow-head" />
          </marker>
        </defs>
        {layout.edges.map((e) => {
          const [x1, y1, x2, y2] = e.points;
          const mid = (x1 + x2) / 2;
          return (
            <path
              key={`${e.from}->${e.to}`}
              class="edge"
              d={`M${x1},${y1} C${mid},${y1} ${mid},${y2} ${x2},${y2}`}
              marker-end="url(#arrow)"
            />
          );
        })}
        {layout.nodes.map((n) => (
          <a key={n.id} href={componentPath(n.name, n.version)} class={n.focus ? 'node focus' : 'node'}>
            <rect x={n.x} y={n.y} width={n.width} height={n.height} rx="6" />
            <text x={n.x + 10} y={n.y + 17}>
              {n.name}
            </text>
            <text x={n.x + 10} y={n.y + 32} class="node-version">
              {n.version ?? ''}
            </text>
          </a>
        ))}
      </svg>
    </Scroll>
  );
}
