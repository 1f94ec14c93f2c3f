import { DynamoDBClient, type TransactionCanceledException } from '@aws-sdk/client-dynamodb';
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
  NestorError,
  type NewCatalogEvent,
  storageFailure,
} from '@nestor/sdk';
import semver from 'semver';
import type { Config } from '../../config/config.js';
import { type Clock, systemClock } from '../../observability/clock.js';
import { type Logger, silentLogger } from '../../observability/logging/logger.js';
import { decodeListCursor, listCursor } from '../cursor.js';
import { componentNotFound, engineNotFound, versionConflict } from '../errors.js';
import type {
  AuditEntry,
  AuditQuery,
  CatalogImporter,
  CatalogStore,
  ChangesetOutcome,
  ChangesetRecord,
  ChangesetWrite,
  CreateConditions,
  DeletedRef,
  DeliveryRecord,
  DependentRef,
  LifecycleChange,
  ListQuery,
  NewComponent,
  Page,
  StateChange,
  StoredJson,
  StoredSubscription,
  StoredToken,
  UpdateConditions,
  WriteOutcome,
} from '../interfaces.js';
import {
  applyLifecycle,
  applyPatch,
  changesetEvent,
  changesetRecord,
  changesetSetMoved,
  changesetStatuses,
  componentEvent,
  failsRevision,
  isResubmission,
  newDefinition,
  revisionMismatch,
  versionSetChanged,
  versionSetTag,
} from '../records.js';
import { parsedPage, storedJson } from '../stored-json.js';
import { auditPut, DynamoAudit } from './audit.js';
import { HeadCache } from './head-cache.js';
import {
  deletedItem,
  dependentItems,
  type Head,
  headAfterAdding,
  headItem,
  headOf,
  parseDoc,
  parseHead,
  versionItem,
} from './items.js';
import { DynamoSubscriptions } from './subscriptions.js';
import {
  CHANGESETS_PK,
  COUNTER_SK,
  componentPk,
  DELETED_PK,
  dependentSk,
  dependentsPk,
  ENGINES_PK,
  EVENTS_PK,
  eventSk,
  HEAD_SK,
  INDEX_NAMES,
  LEASES_PK,
  META_PK,
  NAMES_GSI_PK,
  STATE_PK,
  VERSION_PREFIX,
  versionSk,
} from './table.js';
import { migrateTable } from './table-lifecycle.js';
import { DynamoTokens } from './tokens.js';
import {
  backoff,
  COMPONENT,
  checkDynamoLimits,
  counterPut,
  eventPut,
  type Item,
  isConditionFailure,
  itemBytes,
  MAX_TRANSACT_BYTES,
  MAX_TRANSACT_ITEMS,
  sleep,
  type TransactItem,
  transact,
  writtenSequence,
} from './transactions.js';

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
  private readonly heads: HeadCache;
  private readonly tokens: DynamoTokens;
  private readonly audit: DynamoAudit;
  private readonly subscriptions: DynamoSubscriptions;

  constructor(opts: DynamoStoreOptions) {
    this.table = opts.table;
    this.clock = opts.clock ?? systemClock;
    this.logger = opts.logger ?? silentLogger;
    this.maxWriteAttempts = opts.maxWriteAttempts ?? 100;
    this.heads = new HeadCache(opts.headCacheMs ?? 100);
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
    this.tokens = new DynamoTokens({ doc: this.doc, table: this.table });
    this.audit = new DynamoAudit({ doc: this.doc, table: this.table });
    this.subscriptions = new DynamoSubscriptions({ doc: this.doc, table: this.table });
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
    return this.guard('Migrate', () => migrateTable(this.client, this.table));
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

  async getComponentJson(name: string, version: string): Promise<StoredJson | null> {
    if (!semver.valid(version) || semver.valid(version) !== version) return null;
    return this.guard('GetComponentJson', async () => {
      const item = await this.getItem(componentPk(name), versionSk(version));
      return item ? storedJson(String(item['doc'])) : null;
    });
  }

  async getLatestComponentJson(name: string, opts: { includePrerelease?: boolean } = {}): Promise<StoredJson | null> {
    return this.guard('GetLatestComponentJson', async () => {
      const item = await this.getItem(componentPk(name), HEAD_SK);
      return item ? storedJson(String(item[opts.includePrerelease ? 'highest' : 'latest'])) : null;
    });
  }

  async listComponents(query: ListQuery): Promise<Page<ComponentDefinition>> {
    return parsedPage(await this.listComponentsJson(query));
  }

  async listComponentsJson(query: ListQuery): Promise<Page<string>> {
    const after = decodeListCursor(query.cursor);
    return this.guard('ListComponents', async () => {
      const includePre = query.includePrerelease === true;
      const items: string[] = [];
      let more = false;
      let last = after === '' ? null : after;
      for (;;) {
        const input: QueryCommandInput = {
          TableName: this.table,
          IndexName: INDEX_NAMES,
          KeyConditionExpression: last === null ? 'GSI1PK = :pk' : 'GSI1PK = :pk AND GSI1SK > :after',
          ExpressionAttributeValues: { ':pk': NAMES_GSI_PK, ...(last === null ? {} : { ':after': last }) },
          Limit: query.limit + 1,
        };
        const out = await this.doc.send(new QueryCommand(input));
        const rows = out.Items ?? [];
        for (const row of rows) {
          if (items.length === query.limit) {
            more = true;
            break;
          }
          last = String(row['GSI1SK'] ?? row['name']);
          // As getLatestComponentJson reads a head: text written before lifecycle states is brought
          // to what reads show.
          items.push(storedJson(String(row[includePre ? 'highest' : 'latest'])).json);
        }
        if (more || !out.LastEvaluatedKey) break;
      }
      return { items, nextCursor: more && last !== null ? listCursor(last) : null };
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
        const nextHead = headAfterAdding(head, stored);
        const items: TransactItem[] = [
          counterPut(this.table, seq),
          eventPut(this.table, event),
          {
            Put: {
              TableName: this.table,
              Item: versionItem(stored),
              ConditionExpression: 'attribute_not_exists(PK)',
            },
          },
          ...dependentItems(stored).map((Item): TransactItem => ({ Put: { TableName: this.table, Item } })),
        ];
        if (nextHead) items.push({ Put: { TableName: this.table, Item: headItem(nextHead) } });
        if (conditions.audit) items.push(auditPut(this.table, conditions.audit));
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

  async createChangeset(write: ChangesetWrite): Promise<ChangesetOutcome> {
    return this.guard('CreateChangeset', async () => {
      for (let attempt = 1; ; attempt++) {
        const seq = await this.readCounter();
        // Read after the counter: the transaction commits only while the counter still holds `seq`.
        const names = [...new Set(write.members.map((m) => m.name))];
        const versions = new Map(await Promise.all(names.map(async (n) => [n, await this.readVersions(n)] as const)));
        const find = (n: string, v: string) => versions.get(n)?.find((c) => c.version === v);
        const statuses = changesetStatuses(COMPONENT, write.members, find);
        if (!statuses.includes('created')) {
          const components = write.members.map((m) => find(m.name, m.version) as ComponentDefinition);
          return { changeset: null, components, events: [] };
        }
        changesetSetMoved(COMPONENT, write, (n) => versions.get(n) ?? []);
        const now = this.clock.now().toISOString();
        const created = statuses.filter((s) => s === 'created').length;
        const items: TransactItem[] = [counterPut(this.table, seq, created)];
        const components: ComponentDefinition[] = [];
        const events: CatalogEvent[] = [];
        const rest: TransactItem[] = [];
        const heads = new Map<string, { head: Head | null; moved: boolean }>();
        for (const [i, member] of write.members.entries()) {
          if (statuses[i] === 'unchanged') {
            components.push(find(member.name, member.version) as ComponentDefinition);
            continue;
          }
          const stored = newDefinition(member, now, seq + 1 + events.length);
          const event = changesetEvent(stored.revision, now, stored, write.id);
          events.push(event);
          components.push(stored);
          items.push(eventPut(this.table, event));
          rest.push(
            {
              Put: {
                TableName: this.table,
                Item: versionItem(stored),
                ConditionExpression: 'attribute_not_exists(PK)',
              },
            },
            ...dependentItems(stored).map((Item): TransactItem => ({ Put: { TableName: this.table, Item } })),
          );
          // One head item per name, however many of its versions the set adds (a transaction
          // may touch an item once).
          let entry = heads.get(stored.name);
          if (!entry) {
            entry = { head: await this.getHead(stored.name), moved: false };
            heads.set(stored.name, entry);
          }
          const next = headAfterAdding(entry.head, stored);
          if (next) entry = { head: next, moved: true };
          heads.set(stored.name, entry);
        }
        for (const { head, moved } of heads.values()) {
          if (moved && head) rest.push({ Put: { TableName: this.table, Item: headItem(head) } });
        }
        const record = changesetRecord(write, now, seq + created, statuses);
        rest.push({
          Put: { TableName: this.table, Item: { PK: CHANGESETS_PK, SK: record.id, doc: JSON.stringify(record) } },
        });
        if (write.audit) rest.push(auditPut(this.table, write.audit));
        items.push(...rest);
        checkChangesetSize(items, created);
        const result = await this.transact(items, attempt, 'CreateChangeset');
        if (result === 'retry' || result === 'lost-item') continue;
        return { changeset: record, components, events };
      }
    });
  }

  async getChangeset(id: string): Promise<ChangesetRecord | null> {
    return this.guard('GetChangeset', async () => {
      const item = await this.getItem(CHANGESETS_PK, id);
      return item ? (JSON.parse(String(item['doc'])) as ChangesetRecord) : null;
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
          counterPut(this.table, seq),
          eventPut(this.table, event),
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
        if (conditions.audit) items.push(auditPut(this.table, conditions.audit));
        const result = await this.transact(items, attempt, 'UpdateComponent');
        if (result === 'retry' || result === 'lost-item') continue;
        return { component: stored, event };
      }
    });
  }

  async changeLifecycle(
    name: string,
    version: string,
    change: LifecycleChange,
    conditions: UpdateConditions = {},
  ): Promise<WriteOutcome> {
    return this.guard('ChangeLifecycle', async () => {
      for (let attempt = 1; ; attempt++) {
        const seq = await this.readCounter();
        // Read after the counter: the transaction commits only while the counter still holds `seq`.
        const versions = semver.valid(version) === version ? await this.readVersions(name) : [];
        const index = versions.findIndex((v) => v.version === version);
        const current = versions[index];
        if (!current) throw componentNotFound(COMPONENT, 'ChangeLifecycle', name, version);
        if (failsRevision(current, conditions.expectedRevisions)) throw revisionMismatch(COMPONENT, current);
        const now = this.clock.now().toISOString();
        const applied = applyLifecycle(COMPONENT, current, change, now);
        if (!applied) return { component: current, event: null };
        const stored: ComponentDefinition = { ...applied.next, revision: seq + 1 };
        const event = componentEvent(seq + 1, applied.type, now, stored, applied.changed);
        const after = versions.map((v, i) => (i === index ? stored : v));
        const nextHead = headOf(after);
        const items: TransactItem[] = [
          counterPut(this.table, seq),
          eventPut(this.table, event),
          {
            Put: { TableName: this.table, Item: versionItem(stored), ConditionExpression: 'attribute_exists(PK)' },
          },
          nextHead
            ? { Put: { TableName: this.table, Item: headItem(nextHead) } }
            : { Delete: { TableName: this.table, Key: { PK: componentPk(name), SK: HEAD_SK } } },
        ];
        const wasListed = deletedItem(current);
        const listed = deletedItem(stored);
        if (wasListed && wasListed['SK'] !== listed?.['SK']) {
          items.push({ Delete: { TableName: this.table, Key: { PK: DELETED_PK, SK: wasListed['SK'] } } });
        }
        if (listed && wasListed?.['SK'] !== listed['SK']) items.push({ Put: { TableName: this.table, Item: listed } });
        if (change.kind === 'purge') {
          // The tombstone keeps no dependencies: nothing finds it as a dependent any more.
          current.dependencies.forEach((d, i) => {
            items.push({
              Delete: { TableName: this.table, Key: { PK: dependentsPk(d.name), SK: dependentSk(name, version, i) } },
            });
          });
        }
        if (conditions.audit) items.push(auditPut(this.table, conditions.audit));
        checkDynamoLimits(items, 'ChangeLifecycle');
        const result = await this.transact(items, attempt, 'ChangeLifecycle');
        if (result === 'retry' || result === 'lost-item') continue;
        return { component: stored, event };
      }
    });
  }

  async listDeletedVersions(before: string, limit: number): Promise<DeletedRef[]> {
    return this.guard('ListDeletedVersions', async () => {
      if (limit <= 0) return [];
      const out = await this.doc.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: 'PK = :pk AND SK < :before',
          // Every key of a deletion at `before` sorts below `before` + '$' ('#' < '$').
          ExpressionAttributeValues: { ':pk': DELETED_PK, ':before': `${before}$` },
          ConsistentRead: true,
          Limit: limit,
        }),
      );
      return (out.Items ?? []).map((r) => ({
        name: String(r['name']),
        version: String(r['version']),
        at: String(r['at']),
      }));
    });
  }

  async appendEvent(input: NewCatalogEvent, change?: StateChange, audit?: AuditEntry): Promise<CatalogEvent> {
    return this.guard('AppendEvent', async () => {
      for (let attempt = 1; ; attempt++) {
        const seq = await this.readCounter();
        if (change?.kind === 'engine_delete' && !(await this.getItem(ENGINES_PK, change.name))) {
          throw engineNotFound(COMPONENT, 'AppendEvent', change.name);
        }
        const event = this.newEvent(seq + 1, this.clock.now().toISOString(), input);
        const items = [counterPut(this.table, seq), eventPut(this.table, event)];
        if (change) items.push(this.stateChangeItem(change));
        if (audit) items.push(auditPut(this.table, audit));
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
    return this.heads.read(() => this.guard('HeadSequence', () => this.readCounter()));
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

  createToken(token: StoredToken, audit?: AuditEntry): Promise<void> {
    return this.guard('CreateToken', () => this.tokens.create(token, audit));
  }

  getToken(id: string): Promise<StoredToken | null> {
    return this.guard('GetToken', () => this.tokens.get(id));
  }

  listTokens(): Promise<StoredToken[]> {
    return this.guard('ListTokens', () => this.tokens.list());
  }

  deleteToken(id: string, audit?: AuditEntry): Promise<boolean> {
    return this.guard('DeleteToken', () => this.tokens.delete(id, audit));
  }

  appendAudit(entry: AuditEntry): Promise<void> {
    return this.guard('AppendAudit', () => this.audit.append(entry));
  }

  listAudit(query: AuditQuery): Promise<Page<AuditEntry>> {
    return this.guard('ListAudit', () => this.audit.list(query));
  }

  pruneAudit(before: string): Promise<number> {
    return this.guard('PruneAudit', () => this.audit.prune(before));
  }

  touchToken(id: string, at: string, notBefore: string): Promise<void> {
    return this.guard('TouchToken', () => this.tokens.touch(id, at, notBefore));
  }

  createSubscription(subscription: StoredSubscription, audit?: AuditEntry): Promise<void> {
    return this.guard('CreateSubscription', () => this.subscriptions.create(subscription, audit));
  }

  getSubscription(id: string): Promise<StoredSubscription | null> {
    return this.guard('GetSubscription', () => this.subscriptions.get(id));
  }

  listSubscriptions(): Promise<StoredSubscription[]> {
    return this.guard('ListSubscriptions', () => this.subscriptions.list());
  }

  deleteSubscription(id: string, audit?: AuditEntry): Promise<boolean> {
    return this.guard('DeleteSubscription', () => this.subscriptions.delete(id, audit));
  }

  advanceSubscription(id: string, position: number): Promise<void> {
    return this.guard('AdvanceSubscription', () => this.subscriptions.advance(id, position));
  }

  disableSubscription(id: string, reason: string, audit?: AuditEntry): Promise<boolean> {
    return this.guard('DisableSubscription', () => this.subscriptions.disable(id, reason, audit));
  }

  recordDelivery(id: string, record: DeliveryRecord, keep: number): Promise<void> {
    return this.guard('RecordDelivery', () => this.subscriptions.record(id, record, keep));
  }

  listDeliveries(id: string, limit: number): Promise<DeliveryRecord[]> {
    return this.guard('ListDeliveries', () => this.subscriptions.listDeliveries(id, limit));
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
      const nextHead = headAfterAdding(await this.getHead(component.name), component);
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
      const listed = deletedItem(component);
      if (listed) items.push({ Put: { TableName: this.table, Item: listed } });
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
      this.heads.note(await this.readCounter(), null);
    });
  }

  // ---------------------------------------------------------------- internals

  private async resubmission(stored: ComponentDefinition, component: NewComponent): Promise<WriteOutcome> {
    isResubmission(COMPONENT, stored, component);
    return { component: stored, event: null };
  }

  private newEvent(id: number, time: string, input: NewCatalogEvent): CatalogEvent {
    return { id, type: input.type, time, subject: input.subject, data: input.data };
  }

  /** Runs one counter-guarded transaction (see transactions.ts) and notes the head it wrote. */
  private async transact(
    items: TransactItem[],
    attempt: number,
    operation: string,
  ): Promise<'ok' | 'retry' | 'lost-item'> {
    const result = await transact(this.doc, items, attempt, operation, {
      maxWriteAttempts: this.maxWriteAttempts,
      logger: this.logger,
    });
    if (result === 'ok') this.heads.note(writtenSequence(items), null);
    return result;
  }

  private async readCounter(): Promise<number> {
    const item = await this.getItem(META_PK, COUNTER_SK);
    const head = item ? Number(item['seq']) : 0;
    this.heads.note(head, null);
    return head;
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
 * Refuses (422 `changeset_too_large`) a set that cannot be one TransactWriteItems: every item it
 * writes counts (the counter, an event, a version and one per dependency edge for each created
 * member, a head per name whose latest moves, the record, the audit entry), and so do their bytes.
 */
function checkChangesetSize(items: TransactItem[], created: number): void {
  const bytes = items.reduce((sum, entry) => sum + (entry.Put?.Item ? itemBytes(entry.Put.Item as Item) : 0), 0);
  if (items.length <= MAX_TRANSACT_ITEMS && bytes <= MAX_TRANSACT_BYTES) return;
  const tooMany = items.length > MAX_TRANSACT_ITEMS;
  throw create('changeset_too_large')
    .component(COMPONENT)
    .operation('CreateChangeset')
    .message(
      tooMany
        ? `this changeset needs ${items.length} DynamoDB items in one transaction (${created} new versions with their events, dependency edges and heads); at most ${MAX_TRANSACT_ITEMS} are possible: split it`
        : `this changeset needs ${bytes} bytes in one DynamoDB transaction; at most ${MAX_TRANSACT_BYTES} are possible: split it`,
    )
    .detail('items', items.length)
    .detail('limit', MAX_TRANSACT_ITEMS)
    .detail('bytes', bytes)
    .detail('byte_limit', MAX_TRANSACT_BYTES)
    .detail('created', created)
    .build();
}
