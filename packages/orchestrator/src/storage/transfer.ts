import { type ComponentDefinition, create, type DeploymentEngine, isStrictVersion } from '@nestor/sdk';
import type { CatalogImporter, CatalogStore } from './interfaces.js';

/**
 * `nestor export` / `nestor import`: a whole catalog as NDJSON, between any two store types.
 * Line 1 is the header (format, version, the event log's head); then one line per stored version
 * with every field (timestamps, revision, deprecation, labels...), then one per engine.
 */

const EXPORT_FORMAT = 'nestor-export';
const EXPORT_VERSION = 1;

interface ExportHeader {
  format: typeof EXPORT_FORMAT;
  version: typeof EXPORT_VERSION;
  /** The log's head when exported: an import continues sequences above it. */
  head: number;
  exported_at: string;
}

type ExportLine =
  | ({ type: 'header' } & ExportHeader)
  | { type: 'component'; component: ComponentDefinition }
  | { type: 'engine'; engine: DeploymentEngine };

export interface TransferCounts {
  components: number;
  engines: number;
  head: number;
}

type Progress = (message: string) => void;

/** What an export reads of a store. */
export type CatalogExportSource = Pick<
  CatalogStore,
  'listComponentNames' | 'getComponentVersions' | 'listEngines' | 'headSequence'
>;

/**
 * Writes the catalog line by line. The head written is at least every exported revision, so an
 * import never hands out a sequence that an exported version already carries.
 */
export async function exportCatalog(
  store: CatalogExportSource,
  writeLine: (line: string) => Promise<void> | void,
  opts: { now: Date; progress?: Progress },
): Promise<TransferCounts> {
  const names = await store.listComponentNames();
  const versions: ComponentDefinition[] = [];
  let head = await store.headSequence();
  for (const name of names) {
    // Oldest first, so that an import replays a name in the order it was published. A running
    // maximum rather than `Math.max(...revisions)`: spread into a call, a catalog of about 150 000
    // versions or more overflowed the stack.
    const held = await store.getComponentVersions(name);
    for (let i = held.length - 1; i >= 0; i--) {
      const version = held[i] as ComponentDefinition;
      versions.push(version);
      if (version.revision > head) head = version.revision;
    }
  }
  const engines = await store.listEngines();
  const header: ExportLine = {
    type: 'header',
    format: EXPORT_FORMAT,
    version: EXPORT_VERSION,
    head,
    exported_at: opts.now.toISOString(),
  };
  await writeLine(JSON.stringify(header));
  let written = 0;
  for (const component of versions) {
    await writeLine(JSON.stringify({ type: 'component', component } satisfies ExportLine));
    written++;
    if (written % 1000 === 0) opts.progress?.(`exported ${written}/${versions.length} versions`);
  }
  for (const engine of engines) await writeLine(JSON.stringify({ type: 'engine', engine } satisfies ExportLine));
  opts.progress?.(
    `exported ${versions.length} versions of ${names.length} components, ${engines.length} engines, head ${head}`,
  );
  return { components: versions.length, engines: engines.length, head };
}

export function isImporter(store: object): store is CatalogImporter {
  const s = store as Partial<CatalogImporter>;
  return typeof s.importComponent === 'function' && typeof s.advanceHead === 'function';
}

function badInput(message: string, line: number): Error {
  return create('invalid_request')
    .component('transfer')
    .operation('Import')
    .message(message)
    .detail('line', line)
    .build();
}

/** Loads an export into an empty store; refuses a store that holds any version or event. */
export async function importCatalog(
  store: CatalogStore & CatalogImporter,
  lines: AsyncIterable<string>,
  opts: { progress?: Progress } = {},
): Promise<TransferCounts> {
  const head = await store.headSequence();
  const names = await store.listComponentNames();
  if (head > 0 || names.length > 0) {
    throw create('precondition_failed')
      .component('transfer')
      .operation('Import')
      .message(
        `the target store is not empty (${names.length} components, event head ${head}); import needs an empty store`,
      )
      .build();
  }
  let header: ExportHeader | null = null;
  const counts: TransferCounts = { components: 0, engines: 0, head: 0 };
  let n = 0;
  for await (const raw of lines) {
    n++;
    if (raw.trim() === '') continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      throw badInput(`line ${n} is not JSON`, n);
    }
    const line = parsed as Partial<ExportLine> & Record<string, unknown>;
    if (header === null) {
      if (line.type !== 'header' || line.format !== EXPORT_FORMAT) {
        throw badInput('the file does not start with a nestor export header', n);
      }
      if (line.version !== EXPORT_VERSION || !Number.isSafeInteger(line.head) || (line.head as number) < 0) {
        throw badInput(`unsupported export header (version ${String(line.version)})`, n);
      }
      header = line as unknown as ExportHeader;
      continue;
    }
    if (line.type === 'component') {
      const c = line.component as ComponentDefinition | undefined;
      if (
        typeof c !== 'object' ||
        c === null ||
        typeof c.name !== 'string' ||
        typeof c.version !== 'string' ||
        !isStrictVersion(c.version) ||
        typeof c.digest !== 'string' ||
        !Number.isSafeInteger(c.revision) ||
        c.revision > header.head
      ) {
        throw badInput(`line ${n}: not a stored component version`, n);
      }
      await store.importComponent(c);
      counts.components++;
      if (counts.components % 1000 === 0) opts.progress?.(`imported ${counts.components} versions`);
    } else if (line.type === 'engine') {
      const e = line.engine as DeploymentEngine | undefined;
      if (typeof e !== 'object' || e === null || typeof e.name !== 'string') {
        throw badInput(`line ${n}: not an engine`, n);
      }
      await store.putEngine(e);
      counts.engines++;
    } else {
      throw badInput(`line ${n}: unknown line type ${JSON.stringify(line.type)}`, n);
    }
  }
  if (header === null) throw badInput('the file is empty', n);
  await store.advanceHead(header.head);
  counts.head = header.head;
  opts.progress?.(`imported ${counts.components} versions and ${counts.engines} engines; event head ${header.head}`);
  return counts;
}
