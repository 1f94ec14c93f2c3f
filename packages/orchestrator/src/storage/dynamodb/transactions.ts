import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { type CatalogEvent, create } from '@nestor/sdk';
import type { Logger } from '../../observability/logging/logger.js';
import { COUNTER_SK, EVENTS_PK, eventSk, META_PK } from './table.js';

/**
 * Writes as DynamoDB transactions: every write is one TransactWriteItems that also advances the
 * event counter conditionally, so writes from several replicas are serialised by the counter and a
 * sequence is never reused. The counter and the event are always its first two items.
 */

export const COMPONENT = 'storage.dynamodb';
/** DynamoDB's own limits: actions in one TransactWriteItems, and bytes in one item. */
export const MAX_TRANSACT_ITEMS = 100;
/** DynamoDB's limit on the summed item sizes of one TransactWriteItems. */
export const MAX_TRANSACT_BYTES = 4 * 1024 * 1024;
const MAX_ITEM_BYTES = 400 * 1024;
export type Item = Record<string, unknown>;
export type TransactItem = NonNullable<ConstructorParameters<typeof TransactWriteCommand>[0]['TransactItems']>[number];

/**
 * Advances the counter from `current` by `count` (the events of the write); fails the transaction
 * when another writer moved it first.
 */
export function counterPut(table: string, current: number, count = 1): TransactItem {
  return {
    Put: {
      TableName: table,
      Item: { PK: META_PK, SK: COUNTER_SK, seq: current + count },
      ...(current === 0
        ? { ConditionExpression: 'attribute_not_exists(PK) OR seq = :cur', ExpressionAttributeValues: { ':cur': 0 } }
        : { ConditionExpression: 'seq = :cur', ExpressionAttributeValues: { ':cur': current } }),
    },
  };
}

export function eventPut(table: string, event: CatalogEvent): TransactItem {
  return {
    Put: {
      TableName: table,
      Item: { PK: EVENTS_PK, SK: eventSk(event.id), seq: event.id, event: JSON.stringify(event) },
      ConditionExpression: 'attribute_not_exists(PK)',
    },
  };
}

/**
 * Runs one counter-guarded transaction. `retry`: another writer advanced the counter first (or a
 * transient conflict); `lost-item`: a condition on a component item failed, so the caller re-reads
 * it. After `maxWriteAttempts` attempts the error is thrown.
 */
export async function transact(
  doc: DynamoDBDocumentClient,
  items: TransactItem[],
  attempt: number,
  operation: string,
  opts: { maxWriteAttempts: number; logger: Logger },
): Promise<'ok' | 'retry' | 'lost-item'> {
  checkDynamoLimits(items, operation);
  try {
    await doc.send(new TransactWriteCommand({ TransactItems: items }));
    return 'ok';
  } catch (err) {
    if (
      !(
        err instanceof TransactionCanceledException ||
        (err as { name?: string }).name === 'TransactionCanceledException'
      )
    )
      throw err;
    if (attempt >= opts.maxWriteAttempts) throw err;
    const reasons = (err as TransactionCanceledException).CancellationReasons ?? [];
    const codes = reasons.map((r) => r.Code ?? 'None');
    const itemLost = codes.slice(2).some((c) => c === 'ConditionalCheckFailed');
    const counterLost = codes[0] === 'ConditionalCheckFailed' || codes[1] === 'ConditionalCheckFailed';
    if (!itemLost && !counterLost && !codes.some((c) => c === 'TransactionConflict' || c === 'ThrottlingError'))
      throw err;
    opts.logger.debug({ attempt, codes }, 'dynamodb write lost a race; retrying');
    await sleep(backoff(attempt));
    return itemLost && !counterLost ? 'lost-item' : 'retry';
  }
}

/** The sequence a transaction's counter item writes. */
export function writtenSequence(items: TransactItem[]): number {
  return Number((items[0]?.Put?.Item as Item | undefined)?.['seq'] ?? 0);
}

/**
 * Refuses a write DynamoDB would reject as a whole with a ValidationException, which would
 * otherwise reach the client as a 503 `storage_failure` although retrying can never help. The
 * model's limits (`too_many_dependencies`, `component_too_large`) keep validated writes well inside
 * these; this is the store's own guarantee for anything else.
 */
export function checkDynamoLimits(items: TransactItem[], operation: string): void {
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
export function itemBytes(item: Item): number {
  let bytes = 0;
  for (const [name, value] of Object.entries(item)) {
    bytes += Buffer.byteLength(name);
    bytes += typeof value === 'string' ? Buffer.byteLength(value) : 21;
  }
  return bytes;
}

export function isConditionFailure(err: unknown): boolean {
  return (err as { name?: string }).name === 'ConditionalCheckFailedException';
}

export function backoff(attempt: number): number {
  const base = Math.min(5 * 2 ** Math.min(attempt, 8), 500);
  return base / 2 + Math.random() * base;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
