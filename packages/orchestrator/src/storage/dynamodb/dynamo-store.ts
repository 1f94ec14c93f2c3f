import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  ResourceNotFoundException,
  TransactionCanceledException,
  UpdateTableCommand,
} from '@aws-sdk/client-dynamodb';
import {
  BatchWriteCommand,
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  type QueryCommandInput,
  TransactWriteCommand,
} from '@aws-sdk/lib-dynamodb';
import {
  type CatalogEvent,
  type ComponentDefinition,
  type ComponentPatch,
  compareVersions,
  create,
  type DeploymentEngine,
  isPrerelease,
  NestorError,
  type NewCatalogEvent,
  type ScoredComponent,
  storageFailure,
} from '@nestor/sdk';
import semver from 'semver';
import type { Config } from '../../config/config.js';
import { type Clock, systemClock } from '../../observability/clock.js';
import { type Logger, silentLogger } from '../../observability/logging/logger.js';
import { decodeListCursor, decodeSearchCursor, listCursor, searchCursor } from '../cursor.js';
import { componentNotFound, engineNotFound, versionConflict } from '../errors.js';
import type {
  CatalogImporter,
  CatalogStore,
  CreateConditions,
  DependentRef,
  ListQuery,
  NewComponent,
  Page,
  SearchQuery,
  StateChange,
  UpdateConditions,
  WriteOutcome,
} from '../interfaces.js';
import { takesLatest } from '../latest-rule.js';
import {
  applyPatch,
  componentEvent,
  failsRevision,
  matchesFilters,
  newDefinition,
  revisionMismatch,
  versionSetChanged,
  versionSetTag,
} from '../records.js';
import { type HeadPicks, SearchIndex } from './search-index.js';
import {
  COUNTER_SK,
  categoryGsiPk,
  componentPk,
  dependentSk,
  dependentsPk,
  ENGINES_PK,
  EVENTS_PK,
  eventSk,
  HEAD_SK,
  INDEX_CATEGORY,
  INDEX_NAMES,
  INDEX_PROVIDER,
  LEASES_PK,
  META_PK,
  NAMES_GSI_PK,
  providerGsiPk,
  STATE_PK,
  tableDefinition,
  VERSION_PREFIX,
  versionSk,
} from './table.js';

const COMPONENT = 'storage.dynamodb';
/** DynamoDB's own limits: actions in one TransactWriteItems, and bytes in one item. */
const MAX_TRANSACT_ITEMS = 100;
const MAX_ITEM_BYTES = 400 * 1024;
type Item = Record<string, unknown>;
type TransactItem = NonNullable<ConstructorParameters<typeof TransactWriteCommand>[0]['TransactItems']>[number];

export interface DynamoStoreOptions {
  table: string;
  region?: string | null | undefined;
  /** Endpoint override (DynamoDB Local); null uses the region's AWS endpoint. */
  endpoint?: string | null | undefined;
  /** Explicit credentials; when absent the AWS SDK's standard chain applies. */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string } | undefined;
  clock?: Clock;
  logger?: Logger;
  /** SDK attempts per request for throttling and transient errors (exponential backoff). */
  maxAttempts?: number;
  /** Attempts of a write whose counter condition lost a race with another writer. */
  maxWriteAttempts?: number;
  /**
   * How long `headSequence` may answer from memory (default 100 ms; 0 reads every time). The
   * revision is read on every HTTP request; a slightly old value is safe (a reader resuming from
   * it sees events again, never misses one) and this replica's own writes update it at once.
   */
  headCacheMs?: number;
}

/** The head item of a name: copies of the two picks of `getLatestComponent`. */
interface Head {
  latest: ComponentDefinition;
  highest: ComponentDefinition;
}

/**
 * The production store: one DynamoDB table (see docs/storage-dynamodb.md). Every write is one
 * TransactWriteItems that also advances the event counter conditionally, so writes from several
 * replicas are serialised by the counter and a sequence is never reused. Reads on the base table
 * are strongly consistent; the list indexes are eventually consistent on AWS.
 */
export class DynamoStore implements CatalogStore, CatalogImporter {
  private readonly client: DynamoDBClient;
  private readonly doc: DynamoDBDocumentClient;
  private readonly table: string;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly maxWriteAttempts: number;
  private readonly index = new SearchIndex();
  private indexedUpTo = -1;
  private refreshing: Promise<void> | null = null;
  private readonly headCacheMs: number;
  private knownHead = 0;
  private knownHeadAt = Number.NEGATIVE_INFINITY;
  private headRead: Promise<number> | null = null;

  constructor(opts: DynamoStoreOptions) {
    this.table = opts.table;
    this.clock = opts.clock ?? systemClock;
    this.logger = opts.logger ?? silentLogger;
    this.maxWriteAttempts = opts.maxWriteAttempts ?? 100;
    this.headCacheMs = opts.headCacheMs ?? 100;
    this.client = new DynamoDBClient({
      ...(opts.region ? { region: opts.region } : {}),
      ...(opts.endpoint ? { endpoint: opts.endpoint } : {}),
      ...(opts.credentials ? { credentials: opts.credentials } : {}),
      maxAttempts: opts.maxAttempts ?? 6,
      retryMode: 'standard',
      requestHandler: { connectionTimeout: 3000, requestTimeout: 10_000 },
    });
    this.doc = DynamoDBDocumentClient.from(this.client, {
      marshallOptions: { removeUndefinedValues: true, convertEmptyValues: false },
    });
  }

  /** Builds the store from `config.store`; region and endpoint override the SDK's standard chain. */
  static fromConfig(
    store: Config['store'],
    deps: { clock?: Clock; logger?: Logger; credentials?: DynamoStoreOptions['credentials'] } = {},
  ): DynamoStore {
    return new DynamoStore({
      table: store.table,
      region: store.region,
      endpoint: store.endpoint,
      credentials: deps.credentials,
      clock: deps.clock,
      logger: deps.logger,
    });
  }

  /**
   * Creates the table and its indexes when missing, adds any missing index to an existing table and
   * waits until everything is active. Safe to run any number of times.
   */
  async migrate(): Promise<{ created: boolean; addedIndexes: string[] }> {
    return this.guard('Migrate', async () => {
      const def = tableDefinition(this.table);
      let created = false;
      let existing = await this.describe();
      if (!existing) {
        try {
          await this.client.send(new CreateTableCommand(def));
          created = true;
        } catch (err) {
          if ((err as { name?: string }).name !== 'ResourceInUseException') throw err;
        }
        existing = await this.waitActive();
      }
      const have = new Set((existing?.GlobalSecondaryIndexes ?? []).map((i) => i.IndexName));
      const addedIndexes: string[] = [];
      for (const gsi of def.GlobalSecondaryIndexes) {
        if (have.has(gsi.IndexName)) continue;
        await this.client.send(
          new UpdateTableCommand({
            TableName: this.table,
            AttributeDefinitions: def.AttributeDefinitions,
            GlobalSecondaryIndexUpdates: [{ Create: gsi }],
          }),
        );
        addedIndexes.push(gsi.IndexName);
        await this.waitActive();
      }
      return { created, addedIndexes };
    });
  }

  private async describe() {
    try {
      const out = await this.client.send(new DescribeTableCommand({ TableName: this.table }));
      return out.Table ?? null;
    } catch (err) {
      if (err instanceof ResourceNotFoundException || (err as { name?: string }).name === 'ResourceNotFoundException')
        return null;
      throw err;
    }
  }

  private async waitActive() {
    for (let i = 0; i < 600; i++) {
      const t = await this.describe();
      const indexesActive = (t?.GlobalSecondaryIndexes ?? []).every((g) => g.IndexStatus === 'ACTIVE');
      if (t && t.TableStatus === 'ACTIVE' && indexesActive) return t;
      await sleep(Math.min(100 * 2 ** i, 2000));
    }
    throw new Error(`table ${this.table} did not become active`);
  }

  // ---------------------------------------------------------------- reads

  async getComponent(name: string, version: string): Promise<ComponentDefinition | null> {
    if (!semver.valid(version) || semver.valid(version) !== version) return null;
    return this.guard('GetComponent', async () => {
      const item = await this.getItem(componentPk(name), versionSk(version));
      return item ? parseDoc(item) : null;
    });
  }

  async getLatestComponent(
    name: string,
    opts: { includePrerelease?: boolean } = {},
  ): Promise<ComponentDefinition | null> {
    return this.guard('GetLatestComponent', async () => {
      const head = await this.getHead(name);
      if (!head) return null;
      return opts.includePrerelease ? head.highest : head.latest;
    });
  }

  async listComponents(query: ListQuery): Promise<Page<ComponentDefinition>> {
    const after = decodeListCursor(query.cursor);
    return this.guard('ListComponents', async () => {
      const includePre = query.includePrerelease === true;
      let index = INDEX_NAMES;
      let key = NAMES_GSI_PK;
      let pkAttr = 'GSI1PK';
      let skAttr = 'GSI1SK';
      if (query.provider !== undefined) {
        index = INDEX_PROVIDER;
        key = providerGsiPk(query.provider);
        pkAttr = 'GSI2PK';
        skAttr = 'GSI2SK';
      } else if (query.category !== undefined && !includePre) {
        index = INDEX_CATEGORY;
        key = categoryGsiPk(query.category);
        pkAttr = 'GSI3PK';
        skAttr = 'GSI3SK';
      }
      const items: ComponentDefinition[] = [];
      let more = false;
      let last = after === '' ? null : after;
      for (;;) {
        const input: QueryCommandInput = {
          TableName: this.table,
          IndexName: index,
          KeyConditionExpression: last === null ? '#pk = :pk' : '#pk = :pk AND #sk > :after',
          ExpressionAttributeNames: { '#pk': pkAttr, ...(last === null ? {} : { '#sk': skAttr }) },
          ExpressionAttributeValues: { ':pk': key, ...(last === null ? {} : { ':after': last }) },
          Limit: Math.min(1000, Math.max(query.limit * 2, 50)),
        };
        const out = await this.doc.send(new QueryCommand(input));
        const rows = out.Items ?? [];
        for (const row of rows) {
          last = String(row['GSI1SK'] ?? row['name']);
          const head = parseHead(row);
          const pick = includePre ? head.highest : head.latest;
          if (!matchesFilters(pick, query)) continue;
          if (items.length === query.limit) {
            more = true;
            break;
          }
          items.push(pick);
        }
        if (more || !out.LastEvaluatedKey) break;
      }
      const lastItem = items[items.length - 1];
      return { items, nextCursor: more && lastItem ? listCursor(lastItem.name) : null };
    });
  }

  async getComponentVersions(name: string): Promise<ComponentDefinition[]> {
    return this.guard('GetComponentVersions', () => this.readVersions(name));
  }

  private async readVersions(name: string): Promise<ComponentDefinition[]> {
    const rows = await this.queryAll({
      TableName: this.table,
      KeyConditionExpression: 'PK = :pk AND begins_with(SK, :v)',
      ExpressionAttributeValues: { ':pk': componentPk(name), ':v': VERSION_PREFIX },
      ScanIndexForward: false,
      ConsistentRead: true,
    });
    return rows.map(parseDoc);
  }

  async listComponentNames(): Promise<string[]> {
    return this.guard('ListComponentNames', async () => {
      const rows = await this.queryAll({
        TableName: this.table,
        IndexName: INDEX_NAMES,
        KeyConditionExpression: 'GSI1PK = :pk',
        ExpressionAttributeValues: { ':pk': NAMES_GSI_PK },
        ProjectionExpression: 'GSI1SK',
      });
      return rows.map((r) => String(r['GSI1SK']));
    });
  }

  async getDependents(name: string): Promise<DependentRef[]> {
    return this.guard('GetDependents', async () => {
      const rows = await this.queryAll({
        TableName: this.table,
        KeyConditionExpression: 'PK = :pk',
        ExpressionAttributeValues: { ':pk': dependentsPk(name) },
        ConsistentRead: true,
      });
      const refs = rows.map((r) => ({
        name: String(r['name']),
        version: String(r['version']),
        version_range: String(r['version_range']),
      }));
      return refs.sort((a, b) =>
        a.name === b.name ? compareVersions(a.version, b.version) : a.name < b.name ? -1 : 1,
      );
    });
  }

  async searchComponents(query: SearchQuery): Promise<Page<ScoredComponent>> {
    const start = decodeSearchCursor(query.cursor);
    return this.guard('SearchComponents', async () => {
      await this.refreshIndex();
      const hits = this.index
        .search(query.text, query.includePrerelease === true)
        .filter((h) => matchesFilters(h.component, query));
      const page = hits.slice(start, start + query.limit);
      const end = start + page.length;
      return {
        items: page.map((h) => ({ ...h.component, score: h.score })),
        nextCursor: end < hits.length ? searchCursor(end) : null,
      };
    });
  }

  // ---------------------------------------------------------------- writes

  async createComponent(component: NewComponent, conditions: CreateConditions = {}): Promise<WriteOutcome> {
    return this.guard('CreateComponent', async () => {
      for (let attempt = 1; ; attempt++) {
        const seq = await this.readCounter();
        const existing = await this.getItem(componentPk(component.name), versionSk(component.version));
        if (existing) return this.resubmission(parseDoc(existing), component);
        // Read after the counter: the transaction below commits only while the counter still holds
        // `seq`, and every component write advances it, so the set cannot change before the commit.
        if (
          conditions.expectedVersionSet !== undefined &&
          versionSetTag(await this.readVersions(component.name)) !== conditions.expectedVersionSet
        ) {
          throw versionSetChanged(COMPONENT, component.name, component.version);
        }
        const now = this.clock.now().toISOString();
        const stored = newDefinition(component, now, seq + 1);
        const event = componentEvent(seq + 1, 'component.created', now, stored);
        const head = await this.getHead(stored.name);
        const nextHead = advanceHead(head, stored);
        const items: TransactItem[] = [
          this.counterPut(seq),
          this.eventPut(event),
          {
            Put: {
              TableName: this.table,
              Item: versionItem(stored),
              ConditionExpression: 'attribute_not_exists(PK)',
            },
          },
          ...stored.dependencies.map(
            (d, i): TransactItem => ({
              Put: {
                TableName: this.table,
                Item: {
                  PK: dependentsPk(d.name),
                  SK: dependentSk(stored.name, stored.version, i),
                  name: stored.name,
                  version: stored.version,
                  version_range: d.version_range,
                },
              },
            }),
          ),
        ];
        if (nextHead) items.push({ Put: { TableName: this.table, Item: headItem(nextHead) } });
        const result = await this.transact(items, attempt, 'CreateComponent');
        if (result === 'retry') continue;
        if (result === 'lost-item') {
          const winner = await this.getItem(componentPk(component.name), versionSk(component.version));
          if (winner) return this.resubmission(parseDoc(winner), component);
          continue;
        }
        return { component: stored, event };
      }
    });
  }

  async updateComponent(
    name: string,
    version: string,
    patch: ComponentPatch,
    conditions: UpdateConditions = {},
  ): Promise<WriteOutcome> {
    return this.guard('UpdateComponent', async () => {
      for (let attempt = 1; ; attempt++) {
        const seq = await this.readCounter();
        const existing =
          semver.valid(version) === version ? await this.getItem(componentPk(name), versionSk(version)) : null;
        if (!existing) {
          throw componentNotFound(COMPONENT, 'UpdateComponent', name, version);
        }
        const current = parseDoc(existing);
        // Safe to check here: the transaction commits only while the counter still holds `seq`.
        if (failsRevision(current, conditions.expectedRevisions)) throw revisionMismatch(COMPONENT, current);
        const now = this.clock.now().toISOString();
        const { next, changed, type } = applyPatch(current, patch, now);
        if (changed.length === 0) return { component: current, event: null };
        const stored: ComponentDefinition = { ...next, revision: seq + 1 };
        const event = componentEvent(seq + 1, type, now, stored, changed);
        const head = await this.getHead(name);
        const items: TransactItem[] = [
          this.counterPut(seq),
          this.eventPut(event),
          {
            Put: {
              TableName: this.table,
              Item: versionItem(stored),
              ConditionExpression: 'attribute_exists(PK)',
            },
          },
        ];
        if (head && (head.latest.version === version || head.highest.version === version)) {
          const nextHead: Head = {
            latest: head.latest.version === version ? stored : head.latest,
            highest: head.highest.version === version ? stored : head.highest,
          };
          items.push({ Put: { TableName: this.table, Item: headItem(nextHead) } });
        }
        const result = await this.transact(items, attempt, 'UpdateComponent');
        if (result === 'retry' || result === 'lost-item') continue;
        return { component: stored, event };
      }
    });
  }

  async appendEvent(input: NewCatalogEvent, change?: StateChange): Promise<CatalogEvent> {
    return this.guard('AppendEvent', async () => {
      for (let attempt = 1; ; attempt++) {
        const seq = await this.readCounter();
        if (change?.kind === 'engine_delete' && !(await this.getItem(ENGINES_PK, change.name))) {
          throw engineNotFound(COMPONENT, 'AppendEvent', change.name);
        }
        const event = this.newEvent(seq + 1, this.clock.now().toISOString(), input);
        const items = [this.counterPut(seq), this.eventPut(event)];
        if (change) items.push(this.stateChangeItem(change));
        // A lost condition on the engine (deleted meanwhile) is re-read on the next attempt.
        const result = await this.transact(items, attempt, 'AppendEvent');
        if (result === 'ok') return event;
      }
    });
  }

  private stateChangeItem(change: StateChange): TransactItem {
    if (change.kind === 'state') {
      return {
        Put: {
          TableName: this.table,
          Item: { PK: STATE_PK, SK: change.key, value: JSON.stringify(change.value ?? null) },
        },
      };
    }
    if (change.kind === 'engine_put') {
      return {
        Put: {
          TableName: this.table,
          Item: { PK: ENGINES_PK, SK: change.engine.name, doc: JSON.stringify(change.engine) },
        },
      };
    }
    return {
      Delete: {
        TableName: this.table,
        Key: { PK: ENGINES_PK, SK: change.name },
        ConditionExpression: 'attribute_exists(PK)',
      },
    };
  }

  // ---------------------------------------------------------------- event log

  async readEvents(after: number, limit: number): Promise<CatalogEvent[]> {
    return this.guard('ReadEvents', async () => {
      const events: CatalogEvent[] = [];
      let startKey: Record<string, unknown> | undefined;
      while (events.length < limit) {
        const out = await this.doc.send(
          new QueryCommand({
            TableName: this.table,
            KeyConditionExpression: 'PK = :pk AND SK > :after',
            ExpressionAttributeValues: { ':pk': EVENTS_PK, ':after': eventSk(Math.max(0, Math.floor(after))) },
            ConsistentRead: true,
            Limit: Math.min(limit - events.length, 1000),
            ExclusiveStartKey: startKey,
          }),
        );
        for (const row of out.Items ?? []) events.push(JSON.parse(String(row['event'])) as CatalogEvent);
        if (!out.LastEvaluatedKey) break;
        startKey = out.LastEvaluatedKey;
      }
      return events;
    });
  }

  async headSequence(): Promise<number> {
    if (performance.now() - this.knownHeadAt < this.headCacheMs) return this.knownHead;
    if (!this.headRead) {
      const started = performance.now();
      this.headRead = this.guard('HeadSequence', () => this.readCounter())
        .then((head) => {
          this.noteHead(head, started);
          return this.knownHead;
        })
        .finally(() => {
          this.headRead = null;
        });
    }
    return this.headRead;
  }

  async oldestSequence(): Promise<number> {
    return this.guard('OldestSequence', async () => {
      const out = await this.doc.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: 'PK = :pk',
          ExpressionAttributeValues: { ':pk': EVENTS_PK },
          ConsistentRead: true,
          Limit: 1,
          ProjectionExpression: 'seq',
        }),
      );
      const first = out.Items?.[0];
      if (first) return Number(first['seq']);
      // Everything was compacted: the next event is the oldest one a reader can still get.
      const head = await this.readCounter();
      return head === 0 ? 0 : head + 1;
    });
  }

  async compactEvents(upTo: number): Promise<number> {
    return this.guard('CompactEvents', async () => {
      const rows = await this.queryAll({
        TableName: this.table,
        KeyConditionExpression: 'PK = :pk AND SK <= :upTo',
        ExpressionAttributeValues: { ':pk': EVENTS_PK, ':upTo': eventSk(Math.max(0, Math.floor(upTo))) },
        ConsistentRead: true,
        ProjectionExpression: 'PK, SK',
      });
      for (let i = 0; i < rows.length; i += 25) {
        let requests: { DeleteRequest: { Key: Record<string, unknown> } }[] = rows
          .slice(i, i + 25)
          .map((r) => ({ DeleteRequest: { Key: { PK: r['PK'], SK: r['SK'] } } }));
        for (let attempt = 0; requests.length > 0; attempt++) {
          if (attempt > 0) await sleep(backoff(attempt));
          const out = await this.doc.send(new BatchWriteCommand({ RequestItems: { [this.table]: requests } }));
          requests = (out.UnprocessedItems?.[this.table] ?? []) as typeof requests;
        }
      }
      return rows.length;
    });
  }

  // ---------------------------------------------------------------- engines, state, leases

  async listEngines(): Promise<DeploymentEngine[]> {
    return this.guard('ListEngines', async () => {
      const rows = await this.queryAll({
        TableName: this.table,
        KeyConditionExpression: 'PK = :pk',
        ExpressionAttributeValues: { ':pk': ENGINES_PK },
        ConsistentRead: true,
      });
      return rows.map((r) => JSON.parse(String(r['doc'])) as DeploymentEngine);
    });
  }

  async getEngine(name: string): Promise<DeploymentEngine | null> {
    return this.guard('GetEngine', async () => {
      const item = await this.getItem(ENGINES_PK, name);
      return item ? (JSON.parse(String(item['doc'])) as DeploymentEngine) : null;
    });
  }

  async putEngine(engine: DeploymentEngine): Promise<void> {
    await this.guard('PutEngine', async () => {
      await this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: { PK: ENGINES_PK, SK: engine.name, doc: JSON.stringify(engine) },
        }),
      );
    });
  }

  async deleteEngine(name: string): Promise<boolean> {
    return this.guard('DeleteEngine', async () => {
      const out = await this.doc.send(
        new DeleteCommand({ TableName: this.table, Key: { PK: ENGINES_PK, SK: name }, ReturnValues: 'ALL_OLD' }),
      );
      return out.Attributes !== undefined;
    });
  }

  async getState(key: string): Promise<unknown | null> {
    return this.guard('GetState', async () => {
      const item = await this.getItem(STATE_PK, key);
      return item ? (JSON.parse(String(item['value'])) as unknown) : null;
    });
  }

  async putState(key: string, value: unknown): Promise<void> {
    await this.guard('PutState', async () => {
      await this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: { PK: STATE_PK, SK: key, value: JSON.stringify(value ?? null) },
        }),
      );
    });
  }

  async acquireLease(name: string, holder: string, ttlMs: number): Promise<boolean> {
    return this.guard('AcquireLease', async () => {
      const now = this.clock.now().getTime();
      try {
        await this.doc.send(
          new PutCommand({
            TableName: this.table,
            Item: { PK: LEASES_PK, SK: name, holder, expires_at: now + ttlMs },
            ConditionExpression: 'attribute_not_exists(PK) OR expires_at <= :now OR holder = :holder',
            ExpressionAttributeValues: { ':now': now, ':holder': holder },
          }),
        );
        return true;
      } catch (err) {
        if (isConditionFailure(err)) return false;
        throw err;
      }
    });
  }

  async releaseLease(name: string, holder: string): Promise<void> {
    await this.guard('ReleaseLease', async () => {
      try {
        await this.doc.send(
          new DeleteCommand({
            TableName: this.table,
            Key: { PK: LEASES_PK, SK: name },
            ConditionExpression: 'holder = :holder',
            ExpressionAttributeValues: { ':holder': holder },
          }),
        );
      } catch (err) {
        if (!isConditionFailure(err)) throw err;
      }
    });
  }

  async ping(): Promise<void> {
    await this.guard('Ping', () => this.readCounter());
  }

  async close(): Promise<void> {
    this.client.destroy();
  }

  // ---------------------------------------------------------------- import (nestor import)

  async importComponent(component: ComponentDefinition): Promise<void> {
    await this.guard('ImportComponent', async () => {
      // Versions arrive oldest first and import is single-writer, so the head read here is current.
      const nextHead = advanceHead(await this.getHead(component.name), component);
      const items: TransactItem[] = [
        {
          Put: {
            TableName: this.table,
            Item: versionItem(component),
            ConditionExpression: 'attribute_not_exists(PK)',
          },
        },
        ...dependentItems(component).map((Item): TransactItem => ({ Put: { TableName: this.table, Item } })),
      ];
      if (nextHead) items.push({ Put: { TableName: this.table, Item: headItem(nextHead) } });
      checkDynamoLimits(items, 'ImportComponent');
      try {
        await this.doc.send(new TransactWriteCommand({ TransactItems: items }));
      } catch (err) {
        const reasons = (err as Partial<TransactionCanceledException>).CancellationReasons ?? [];
        if (reasons[0]?.Code === 'ConditionalCheckFailed') {
          throw versionConflict(COMPONENT, 'ImportComponent', component.name, component.version);
        }
        throw err;
      }
      // No event names the imported versions: the search index must reload from the head items.
      this.indexedUpTo = -1;
    });
  }

  async advanceHead(sequence: number): Promise<void> {
    await this.guard('AdvanceHead', async () => {
      try {
        await this.doc.send(
          new PutCommand({
            TableName: this.table,
            Item: { PK: META_PK, SK: COUNTER_SK, seq: sequence },
            ConditionExpression: 'attribute_not_exists(PK) OR seq < :seq',
            ExpressionAttributeValues: { ':seq': sequence },
          }),
        );
      } catch (err) {
        // Already at or above `sequence`: the head never moves back.
        if (!isConditionFailure(err)) throw err;
      }
      this.noteHead(await this.readCounter(), null);
      this.indexedUpTo = -1;
    });
  }

  // ---------------------------------------------------------------- internals

  private async resubmission(stored: ComponentDefinition, component: NewComponent): Promise<WriteOutcome> {
    if (stored.digest === component.digest) return { component: stored, event: null };
    throw versionConflict(COMPONENT, 'CreateComponent', component.name, component.version, {
      existing: stored.digest,
      submitted: component.digest,
    });
  }

  private newEvent(id: number, time: string, input: NewCatalogEvent): CatalogEvent {
    return { id, type: input.type, time, subject: input.subject, data: input.data };
  }

  private counterPut(current: number): TransactItem {
    return {
      Put: {
        TableName: this.table,
        Item: { PK: META_PK, SK: COUNTER_SK, seq: current + 1 },
        ...(current === 0
          ? { ConditionExpression: 'attribute_not_exists(PK) OR seq = :cur', ExpressionAttributeValues: { ':cur': 0 } }
          : { ConditionExpression: 'seq = :cur', ExpressionAttributeValues: { ':cur': current } }),
      },
    };
  }

  private eventPut(event: CatalogEvent): TransactItem {
    return {
      Put: {
        TableName: this.table,
        Item: { PK: EVENTS_PK, SK: eventSk(event.id), seq: event.id, event: JSON.stringify(event) },
        ConditionExpression: 'attribute_not_exists(PK)',
      },
    };
  }

  /**
   * Runs one transaction. `retry`: another writer advanced the counter first (or a transient
   * conflict); `lost-item`: a condition on a component item failed, so the caller re-reads it.
   * The counter and event are always the first two items.
   */
  private async transact(
    items: TransactItem[],
    attempt: number,
    operation: string,
  ): Promise<'ok' | 'retry' | 'lost-item'> {
    checkDynamoLimits(items, operation);
    try {
      await this.doc.send(new TransactWriteCommand({ TransactItems: items }));
      const written = Number((items[0]?.Put?.Item as Item | undefined)?.['seq'] ?? 0);
      this.noteHead(written, null);
      return 'ok';
    } catch (err) {
      if (
        !(
          err instanceof TransactionCanceledException ||
          (err as { name?: string }).name === 'TransactionCanceledException'
        )
      )
        throw err;
      if (attempt >= this.maxWriteAttempts) throw err;
      const reasons = (err as TransactionCanceledException).CancellationReasons ?? [];
      const codes = reasons.map((r) => r.Code ?? 'None');
      const itemLost = codes.slice(2).some((c) => c === 'ConditionalCheckFailed');
      const counterLost = codes[0] === 'ConditionalCheckFailed' || codes[1] === 'ConditionalCheckFailed';
      if (!itemLost && !counterLost && !codes.some((c) => c === 'TransactionConflict' || c === 'ThrottlingError'))
        throw err;
      this.logger.debug({ attempt, codes }, 'dynamodb write lost a race; retrying');
      await sleep(backoff(attempt));
      return itemLost && !counterLost ? 'lost-item' : 'retry';
    }
  }

  private async readCounter(): Promise<number> {
    const item = await this.getItem(META_PK, COUNTER_SK);
    const head = item ? Number(item['seq']) : 0;
    this.noteHead(head, null);
    return head;
  }

  /** Remembers a head read or written here; `readAt` (when the read began) makes it cacheable. */
  private noteHead(head: number, readAt: number | null): void {
    if (head > this.knownHead) this.knownHead = head;
    if (readAt !== null && readAt > this.knownHeadAt) this.knownHeadAt = readAt;
  }

  private async getHead(name: string): Promise<Head | null> {
    const item = await this.getItem(componentPk(name), HEAD_SK);
    return item ? parseHead(item) : null;
  }

  private async getItem(pk: string, sk: string): Promise<Item | null> {
    const out = await this.doc.send(
      new GetCommand({ TableName: this.table, Key: { PK: pk, SK: sk }, ConsistentRead: true }),
    );
    return (out.Item as Item | undefined) ?? null;
  }

  private async queryAll(input: QueryCommandInput): Promise<Item[]> {
    const rows: Item[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const out = await this.doc.send(new QueryCommand({ ...input, ExclusiveStartKey: startKey }));
      rows.push(...((out.Items ?? []) as Item[]));
      startKey = out.LastEvaluatedKey;
    } while (startKey);
    return rows;
  }

  /**
   * Brings the search index up to the log's head: a full load from the head items the first time
   * (or when the events it missed were compacted away), then only the names that changed since.
   */
  private refreshIndex(): Promise<void> {
    if (!this.refreshing) {
      this.refreshing = this.doRefresh().finally(() => {
        this.refreshing = null;
      });
    }
    return this.refreshing;
  }

  private async doRefresh(): Promise<void> {
    const head = await this.readCounter();
    if (head === this.indexedUpTo) return;
    if (this.indexedUpTo >= 0) {
      const oldest = await this.oldestSequence();
      if (oldest === 0 || oldest <= this.indexedUpTo + 1) {
        const changed = new Set<string>();
        let from = this.indexedUpTo;
        for (;;) {
          const events = await this.readEvents(from, 1000);
          for (const e of events) if (e.type.startsWith('component.')) changed.add(e.subject.name);
          const lastEvent = events[events.length - 1];
          if (!lastEvent || events.length < 1000) {
            if (lastEvent) from = lastEvent.id;
            break;
          }
          from = lastEvent.id;
        }
        for (const name of changed) {
          const h = await this.getHead(name);
          if (h) this.index.upsert(picksOf(name, h));
          else this.index.remove(name);
        }
        this.indexedUpTo = Math.max(from, head);
        return;
      }
    }
    const rows = await this.queryAll({
      TableName: this.table,
      IndexName: INDEX_NAMES,
      KeyConditionExpression: 'GSI1PK = :pk',
      ExpressionAttributeValues: { ':pk': NAMES_GSI_PK },
    });
    this.index.clear();
    for (const row of rows) this.index.upsert(picksOf(String(row['GSI1SK']), parseHead(row)));
    this.indexedUpTo = head;
  }

  private async guard<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (NestorError.is(err)) throw err;
      throw storageFailure(COMPONENT, operation, err);
    }
  }
}

/**
 * Refuses a write DynamoDB would reject as a whole with a ValidationException, which would
 * otherwise reach the client as a 503 `storage_failure` although retrying can never help. The
 * model's limits (`too_many_dependencies`, `component_too_large`) keep validated writes well inside
 * these; this is the store's own guarantee for anything else.
 */
function checkDynamoLimits(items: TransactItem[], operation: string): void {
  if (items.length > MAX_TRANSACT_ITEMS) {
    throw create('payload_too_large')
      .component(COMPONENT)
      .operation(operation)
      .message(
        `this write needs ${items.length} DynamoDB items in one transaction; at most ${MAX_TRANSACT_ITEMS} are possible (fewer dependencies)`,
      )
      .detail('items', items.length)
      .detail('limit', MAX_TRANSACT_ITEMS)
      .build();
  }
  for (const entry of items) {
    const item = entry.Put?.Item as Item | undefined;
    if (!item) continue;
    const bytes = itemBytes(item);
    if (bytes > MAX_ITEM_BYTES) {
      throw create('payload_too_large')
        .component(COMPONENT)
        .operation(operation)
        .message(`this write needs a DynamoDB item of ${bytes} bytes; at most ${MAX_ITEM_BYTES} are possible`)
        .detail('item', String(item['SK'] ?? ''))
        .detail('bytes', bytes)
        .detail('limit', MAX_ITEM_BYTES)
        .build();
    }
  }
}

/**
 * An item's size as DynamoDB counts it, rounded up: UTF-8 attribute names and string values, and
 * 21 bytes for a number or anything else (every attribute here is a string or a number).
 */
function itemBytes(item: Item): number {
  let bytes = 0;
  for (const [name, value] of Object.entries(item)) {
    bytes += Buffer.byteLength(name);
    bytes += typeof value === 'string' ? Buffer.byteLength(value) : 21;
  }
  return bytes;
}

function picksOf(name: string, head: Head): HeadPicks {
  return { name, latest: head.latest, highest: head.highest };
}

/** The head after adding `added`, or null when neither pick changes. */
function advanceHead(head: Head | null, added: ComponentDefinition): Head | null {
  const takes = (holder: ComponentDefinition | undefined, includePrerelease: boolean) =>
    takesLatest(
      added,
      holder && { prerelease: isPrerelease(holder.version) },
      holder !== undefined && compareVersions(added.version, holder.version) > 0,
      includePrerelease,
    );
  const latest = takes(head?.latest, false) ? added : head?.latest;
  const highest = takes(head?.highest, true) ? added : head?.highest;
  if (!latest || !highest) return null;
  if (head && highest === head.highest && latest === head.latest) return null;
  return { latest, highest };
}

function versionItem(c: ComponentDefinition): Item {
  return { PK: componentPk(c.name), SK: versionSk(c.version), version: c.version, doc: JSON.stringify(c) };
}

/** One item per dependency edge, under the dependency's name, so `getDependents` is one Query. */
function dependentItems(c: ComponentDefinition): Item[] {
  return c.dependencies.map((d, i) => ({
    PK: dependentsPk(d.name),
    SK: dependentSk(c.name, c.version, i),
    name: c.name,
    version: c.version,
    version_range: d.version_range,
  }));
}

function headItem(head: Head): Item {
  const name = head.latest.name;
  return {
    PK: componentPk(name),
    SK: HEAD_SK,
    name,
    latest: JSON.stringify(head.latest),
    highest: JSON.stringify(head.highest),
    GSI1PK: NAMES_GSI_PK,
    GSI1SK: name,
    GSI2PK: providerGsiPk(head.latest.provider),
    GSI2SK: name,
    GSI3PK: categoryGsiPk(head.latest.category),
    GSI3SK: name,
  };
}

function parseDoc(item: Item): ComponentDefinition {
  return JSON.parse(String(item['doc'])) as ComponentDefinition;
}

function parseHead(item: Item): Head {
  return {
    latest: JSON.parse(String(item['latest'])) as ComponentDefinition,
    highest: JSON.parse(String(item['highest'])) as ComponentDefinition,
  };
}

function isConditionFailure(err: unknown): boolean {
  return (err as { name?: string }).name === 'ConditionalCheckFailedException';
}

function backoff(attempt: number): number {
  const base = Math.min(5 * 2 ** Math.min(attempt, 8), 500);
  return base / 2 + Math.random() * base;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
