import {
  Composer,
  CST,
  type Document,
  isAlias,
  isMap,
  isPair,
  isScalar,
  isSeq,
  Lexer,
  LineCounter,
  Parser,
} from 'yaml';

/**
 * Bounds on one YAML text. The `yaml` library composes and converts recursively, so a deep text
 * overflows the stack, and V8 may abort the process on a later regular expression once that has
 * happened; key, document and alias counts bound its time and memory.
 */
export interface YamlLimits {
  /** Deepest nesting of mappings and sequences, aliases expanded. */
  maxDepth: number;
  /** YAML documents (`---`) in one text. */
  maxDocuments: number;
  /** Scalars, aliases and collections in the whole text, aliases expanded (billion laughs). */
  maxNodes: number;
  /** Entries of one mapping (duplicate-key checks are quadratic in it). */
  maxMappingEntries: number;
  /** Characters of one scalar. */
  maxScalarLength: number;
}

/** Limits for component files; a component needs about six levels and a few hundred nodes. */
export const DEFAULT_YAML_LIMITS: Readonly<YamlLimits> = Object.freeze({
  maxDepth: 64,
  maxDocuments: 100,
  maxNodes: 100_000,
  maxMappingEntries: 1_000,
  maxScalarLength: 65_536,
});

/** Why a text was refused, with the offset where the parser was when it went over a limit. */
interface YamlLimitProblem {
  message: string;
  offset: number | null;
}

export interface BoundedYaml {
  /** Empty when `problem` is set: a text over a limit is refused as a whole. */
  documents: Document.Parsed[];
  lineCounter: LineCounter;
  problem: YamlLimitProblem | null;
}

/**
 * Parses every document of `text` like `parseAllDocuments`, but refuses the text as soon as it goes
 * over a limit. The lexer and the CST parser of `yaml` keep explicit stacks, so they are driven one
 * token at a time and stopped when the CST's open-token stack gets deeper than the limit; only a
 * text that passes is composed (the recursive part), and the composed documents are measured with
 * aliases expanded before anyone converts them. Linear in the text; never recursive on its nesting.
 */
export function parseYamlBounded(
  text: string,
  limits: YamlLimits = DEFAULT_YAML_LIMITS,
  options: { uniqueKeys?: boolean } = {},
): BoundedYaml {
  const lineCounter = new LineCounter();
  const refuse = (message: string, offset: number | null): BoundedYaml => ({
    documents: [],
    lineCounter,
    problem: { message, offset },
  });

  const tokens: CST.Token[] = [];
  const parser = new Parser(lineCounter.addNewLine);
  lineCounter.addNewLine(0);
  let documents = 0;
  // Scalars, aliases, sequence items and flow separators: at most twice the nodes they make.
  let values = 0;
  const maxValues = 2 * limits.maxNodes;
  let atScalar = false;
  const collect = (token: CST.Token): YamlLimitProblem | null => {
    tokens.push(token);
    if (token.type === 'document' && ++documents > limits.maxDocuments) {
      return { message: `more than ${limits.maxDocuments} YAML documents`, offset: token.offset };
    }
    return null;
  };
  for (const lexeme of new Lexer().lex(text)) {
    // The lexeme after a scalar marker is the scalar's source, whatever it looks like.
    const type: string | null = atScalar ? null : (CST.tokenType(lexeme) ?? null);
    atScalar = type === 'scalar';
    if (type !== null && VALUE_LEXEMES.has(type) && ++values > maxValues) {
      return refuse(`more than ${limits.maxNodes} YAML values`, parser.offset);
    }
    for (const token of parser.next(lexeme)) {
      const problem = collect(token);
      if (problem) return refuse(problem.message, problem.offset);
    }
    const { stack } = parser;
    // The stack holds the document, the open collections and sometimes a token between them; only
    // the collections count, or a top-level flow sequence one level too deep would slip through.
    if (stack.length > limits.maxDepth && openCollections(stack) > limits.maxDepth) {
      return refuse(`YAML nests deeper than ${limits.maxDepth} levels`, parser.offset);
    }
    const over = overfullMapping(stack, limits.maxMappingEntries);
    if (over !== null) return refuse(`a YAML mapping has more than ${limits.maxMappingEntries} entries`, over);
  }
  for (const token of parser.end()) {
    const problem = collect(token);
    if (problem) return refuse(problem.message, problem.offset);
  }

  const composer = new Composer({ uniqueKeys: options.uniqueKeys ?? true });
  const composed = [...composer.compose(tokens)];
  let budget = limits.maxNodes;
  for (const doc of composed) {
    for (const error of [...doc.errors, ...doc.warnings]) {
      error.linePos = [lineCounter.linePos(error.pos[0]), lineCounter.linePos(error.pos[1])];
    }
    if (doc.errors.length > 0) continue;
    const measured = measure(doc, limits, budget);
    if ('problem' in measured) return refuse(measured.problem.message, measured.problem.offset);
    budget -= measured.nodes;
  }
  return { documents: composed, lineCounter, problem: null };
}

const VALUE_LEXEMES = new Set<string>(['scalar', 'alias', 'seq-item-ind', 'comma']);

function openCollections(stack: CST.Token[]): number {
  let count = 0;
  for (const token of stack) {
    if (token.type === 'block-map' || token.type === 'block-seq' || token.type === 'flow-collection') count++;
  }
  return count;
}

/** The offset of a mapping among the innermost open CST tokens that has too many entries, or null. */
function overfullMapping(stack: CST.Token[], max: number): number | null {
  // Entries are only added to the innermost collection, which is the top or just below it.
  for (let i = Math.max(0, stack.length - 2); i < stack.length; i++) {
    const token = stack[i];
    if (!token) continue;
    const isMapping = token.type === 'block-map' || (token.type === 'flow-collection' && token.start.source === '{');
    if (isMapping && token.items.length > max) return token.offset;
  }
  return null;
}

type Measured = { nodes: number; depth: number } | { problem: YamlLimitProblem };
type Composed = NonNullable<Document.Parsed['contents']>;

/**
 * Counts one document's nodes and depth as `toJS` would produce them (every alias expanded), with
 * an explicit stack and each anchored node measured once, so a billion-laughs document costs as
 * much as its text. An alias to a node that contains it is refused: it has no finite expansion.
 */
function measure(doc: Document.Parsed, limits: YamlLimits, budget: number): Measured {
  const root = doc.contents;
  if (root === null) return { nodes: 0, depth: 0 };
  const done = new Map<unknown, { nodes: number; depth: number }>();
  const frames: { node: Composed; entered: boolean }[] = [{ node: root, entered: false }];
  const offsetOf = (node: Composed) => node.range?.[0] ?? null;
  const childrenOf = (node: Composed): Composed[] => {
    if (isMap(node)) {
      const out: Composed[] = [];
      for (const pair of node.items) {
        if (!isPair(pair)) continue;
        if (pair.key) out.push(pair.key as Composed);
        if (pair.value) out.push(pair.value as Composed);
      }
      return out;
    }
    if (isSeq(node)) return node.items.filter((item): item is Composed => item !== null && item !== undefined);
    return [];
  };

  while (frames.length > 0) {
    const frame = frames[frames.length - 1] as { node: Composed; entered: boolean };
    const { node } = frame;
    if (done.has(node)) {
      frames.pop();
      continue;
    }
    if (isAlias(node)) {
      frames.pop();
      const target = node.resolve(doc);
      const size = target ? done.get(target) : undefined;
      if (!size) {
        return {
          problem: { message: `alias *${node.source} refers to a node that contains it`, offset: offsetOf(node) },
        };
      }
      done.set(node, size);
      continue;
    }
    if (isScalar(node)) {
      frames.pop();
      if (typeof node.value === 'string' && node.value.length > limits.maxScalarLength) {
        return {
          problem: {
            message: `a YAML value is longer than ${limits.maxScalarLength} characters`,
            offset: offsetOf(node),
          },
        };
      }
      done.set(node, { nodes: 1, depth: 0 });
      continue;
    }
    const children = childrenOf(node);
    if (!frame.entered) {
      frame.entered = true;
      if (isMap(node) && node.items.length > limits.maxMappingEntries) {
        return {
          problem: {
            message: `a YAML mapping has more than ${limits.maxMappingEntries} entries`,
            offset: offsetOf(node),
          },
        };
      }
      // Children are measured first; reversed so they are measured in document order.
      for (let i = children.length - 1; i >= 0; i--) {
        const child = children[i] as Composed;
        if (!done.has(child)) frames.push({ node: child, entered: false });
      }
      continue;
    }
    frames.pop();
    let nodes = 1;
    let depth = 0;
    for (const child of children) {
      const size = done.get(child);
      if (!size) return { problem: { message: 'YAML node could not be measured', offset: offsetOf(child) } };
      nodes += size.nodes;
      depth = Math.max(depth, size.depth);
    }
    depth += 1;
    if (nodes > budget)
      return {
        problem: { message: `more than ${limits.maxNodes} YAML values (aliases expanded)`, offset: offsetOf(node) },
      };
    if (depth > limits.maxDepth) {
      return {
        problem: {
          message: `YAML nests deeper than ${limits.maxDepth} levels (aliases expanded)`,
          offset: offsetOf(node),
        },
      };
    }
    done.set(node, { nodes, depth });
  }
  const total = done.get(root);
  return total ?? { nodes: 0, depth: 0 };
}
