/**
 * Layer rules for the orchestrator and the SDK (`npm run lint:deps`, part of `npm test`).
 *
 * Each package's folders are listed from the bottom layer up. A module may import from its own
 * folder and from any layer below its own, never from a layer above: an upward import fails the
 * check, and with one strict order a cycle between folders cannot exist. Cycles between modules
 * (type-only imports included) fail as well. docs/architecture.md ("Folders of the orchestrator and their layers") draws
 * the same order; change both together.
 *
 * Tests and their helpers (`*.test.ts`, `*.test-suite.ts`, `testing.ts`: excluded from the build by
 * packages/orchestrator/tsconfig.json) are not shipped and may import any layer (a CLI test imports
 * `cmd/`); shipped code may not import them or `test/`.
 */
const ORCHESTRATOR = 'packages/orchestrator/src';
const SDK = 'packages/sdk/src';
const TESTS = '(\\.test(-suite)?\\.ts|/testing\\.ts)$';

/** Orchestrator layers, bottom first. Entries ending in `.ts` are single modules, others folders. */
const ORCHESTRATOR_LAYERS = [
  ['fs-utils.ts', 'timeout.ts', 'version.ts'], // plain helpers on Node and the SDK
  ['observability'], // logging, metrics, tracing, clock
  ['yaml'], // bounded YAML parsing
  ['infra'], // Redis link, endpoint policy: infrastructure shared by the layers above
  ['git'], // git CLI client and webhook signatures (no domain)
  ['config'], // config types, defaults, loading
  ['storage'], // store ports, the four stores, caches
  ['leases'], // store leases
  ['events'], // change feeds, log follower, cache invalidation, SSE broker
  ['engines'], // engine registry, probes, discovery
  ['validation'], // rule engine
  ['catalog'], // CatalogManager, the only write path
  ['search'], // the search projection (list, search, facets) fed by the log
  ['sources'], // ingestion
  ['webhooks'], // outgoing webhooks: subscriptions and their delivery
  ['api'], // HTTP
  ['core.ts'], // buildCatalogCore
  ['main.ts'], // buildApp
  ['cmd'], // the CLI
];

/** SDK layers, bottom first. */
const SDK_LAYERS = [['models', 'events'], ['errors'], ['resolve'], ['api'], ['index.ts']];

function escape(s) {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** A regex matching every module of the given layers of a package. */
function pathOf(root, layers) {
  const alternatives = layers.flat().map((entry) => (entry.endsWith('.ts') ? `${escape(entry)}$` : `${entry}/`));
  return `^${escape(root)}/(${alternatives.join('|')})`;
}

function layerRules(packageName, root, layers) {
  return layers.slice(0, -1).map((layer, i) => ({
    name: `${packageName}-upward-from-${layer.join('+')}`,
    comment: `${root}/${layer.join(', ')} may import only from itself and the layers below (see .dependency-cruiser.cjs)`,
    severity: 'error',
    from: { path: pathOf(root, [layer]), pathNot: TESTS },
    to: { path: pathOf(root, layers.slice(i + 1)) },
  }));
}

module.exports = {
  forbidden: [
    ...layerRules('orchestrator', ORCHESTRATOR, ORCHESTRATOR_LAYERS),
    ...layerRules('sdk', SDK, SDK_LAYERS),
    {
      name: 'no-circular',
      comment: 'No import cycle between modules, type-only imports included.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'sdk-stands-alone',
      comment: 'The SDK is published on its own: it never imports the orchestrator.',
      severity: 'error',
      from: { path: `^${SDK}/` },
      to: { path: '^packages/(orchestrator|web)/' },
    },
    {
      name: 'no-tests-in-shipped-code',
      comment: 'Shipped code never imports a test, a test suite or test/ support code.',
      severity: 'error',
      from: { path: `^(${ORCHESTRATOR}|${SDK})/`, pathNot: TESTS },
      to: { path: [TESTS, '^test/'] },
    },
    {
      name: 'not-to-unresolvable',
      comment: 'Every relative import resolves to a file.',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    // packages/web is being built right now in another branch; it gets its rules when it lands.
    exclude: { path: ['(^|/)node_modules/', '(^|/)dist/', '^packages/web/'] },
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: {
      extensions: ['.ts', '.js', '.mjs', '.json'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      exportsFields: ['exports'],
    },
  },
};
