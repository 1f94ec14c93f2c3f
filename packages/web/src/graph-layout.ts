/** A node of the dependency graph: a component at a version. */
export interface GraphNode {
  id: string;
  name: string;
  version: string | null;
  /** The component the page is about. */
  focus?: boolean;
}

/** `from` depends on `to`. */
export interface GraphEdge {
  from: string;
  to: string;
  label?: string;
}

interface PlacedNode extends GraphNode {
  x: number;
  y: number;
  width: number;
  height: number;
  layer: number;
}

export interface Layout {
  nodes: PlacedNode[];
  edges: (GraphEdge & { points: [number, number, number, number] })[];
  width: number;
  height: number;
}

const NODE_HEIGHT = 40;
const LAYER_GAP = 72;
const ROW_GAP = 16;
const CHAR_WIDTH = 7.4;
const PADDING = 12;

/**
 * A layered (Sugiyama-style) layout, left to right: dependents, then the component, then what it
 * depends on. Layers by longest path from the roots; order in each layer by the barycentre of the
 * nodes it is linked to, a few sweeps down and up, which removes most crossings of graphs this
 * size (a component's closure is tens of nodes). Edges in a cycle (which validation forbids) are
 * ignored for layering so that the layout always ends.
 */
export function layoutGraph(nodes: readonly GraphNode[], edges: readonly GraphEdge[]): Layout {
  const ids = new Set(nodes.map((n) => n.id));
  const usable = edges.filter((e) => ids.has(e.from) && ids.has(e.to) && e.from !== e.to);
  const out = new Map<string, string[]>();
  const incoming = new Map<string, string[]>();
  for (const n of nodes) {
    out.set(n.id, []);
    incoming.set(n.id, []);
  }
  for (const e of usable) {
    out.get(e.from)?.push(e.to);
    incoming.get(e.to)?.push(e.from);
  }

  // Longest-path layering over a DFS that skips back edges.
  const layer = new Map<string, number>();
  const state = new Map<string, 1 | 2>();
  const order: string[] = [];
  const visit = (id: string) => {
    state.set(id, 1);
    for (const next of out.get(id) ?? []) if (!state.has(next)) visit(next);
    state.set(id, 2);
    order.push(id);
  };
  for (const n of nodes) if (!state.has(n.id)) visit(n.id);
  order.reverse(); // topological order (ignoring back edges)
  const position = new Map(order.map((id, i) => [id, i]));
  for (const id of order) {
    const l = layer.get(id) ?? 0;
    layer.set(id, l);
    for (const next of out.get(id) ?? []) {
      if ((position.get(next) ?? 0) > (position.get(id) ?? 0)) layer.set(next, Math.max(layer.get(next) ?? 0, l + 1));
    }
  }

  const layers: string[][] = [];
  for (const id of order) {
    const l = layer.get(id) ?? 0;
    const ids = layers[l] ?? [];
    ids.push(id);
    layers[l] = ids;
  }
  const indexIn = new Map<string, number>();
  const renumber = () => {
    for (const ids of layers) for (const [i, id] of ids.entries()) indexIn.set(id, i);
  };
  renumber();
  const barycentre = (id: string, neighbours: Map<string, string[]>) => {
    const ns = neighbours.get(id) ?? [];
    if (ns.length === 0) return indexIn.get(id) ?? 0;
    return ns.reduce((sum, n) => sum + (indexIn.get(n) ?? 0), 0) / ns.length;
  };
  for (let sweep = 0; sweep < 4; sweep++) {
    const down = sweep % 2 === 0;
    const range = down ? layers.keys() : [...layers.keys()].reverse();
    for (const l of range) {
      const ids = layers[l];
      if (!ids) continue;
      const keyed = ids.map((id) => [id, barycentre(id, down ? incoming : out)] as const);
      keyed.sort((a, b) => a[1] - b[1]);
      layers[l] = keyed.map(([id]) => id);
      renumber();
    }
  }

  const byId = new Map(nodes.map((n) => [n.id, n]));
  const widthOf = (n: GraphNode) =>
    Math.max(90, Math.ceil(Math.max(n.name.length, (n.version ?? '').length + 1) * CHAR_WIDTH) + 2 * PADDING);
  const placed = new Map<string, PlacedNode>();
  let x = 0;
  let height = 0;
  layers.forEach((ids, l) => {
    const width = Math.max(...ids.map((id) => widthOf(byId.get(id) as GraphNode)));
    ids.forEach((id, i) => {
      const n = byId.get(id) as GraphNode;
      const y = i * (NODE_HEIGHT + ROW_GAP);
      placed.set(id, { ...n, x, y, width, height: NODE_HEIGHT, layer: l });
      height = Math.max(height, y + NODE_HEIGHT);
    });
    x += width + LAYER_GAP;
  });
  // Centre each layer vertically.
  for (const ids of layers) {
    const span = ids.length * (NODE_HEIGHT + ROW_GAP) - ROW_GAP;
    const shift = (height - span) / 2;
    for (const id of ids) {
      const p = placed.get(id);
      if (p) p.y += shift;
    }
  }

  const placedEdges = usable.flatMap((e) => {
    const a = placed.get(e.from);
    const b = placed.get(e.to);
    if (!a || !b) return [];
    const forward = b.x > a.x;
    const points: [number, number, number, number] = forward
      ? [a.x + a.width, a.y + a.height / 2, b.x, b.y + b.height / 2]
      : [a.x, a.y + a.height / 2, b.x + b.width, b.y + b.height / 2];
    return [{ ...e, points }];
  });
  return { nodes: [...placed.values()], edges: placedEdges, width: Math.max(0, x - LAYER_GAP), height };
}
