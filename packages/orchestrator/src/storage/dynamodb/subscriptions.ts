import {
  BatchWriteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { AuditEntry, DeliveryRecord, StoredSubscription } from '../interfaces.js';
import { bySubscriptionAge } from '../subscription-rows.js';
import { auditPut } from './audit.js';
import { partitionPages } from './partition.js';
import { isConditionFailure } from './transactions.js';

/**
 * Webhook subscriptions in the single table: one item per subscription under `SUBSCRIPTION`/<id>
 * (the fixed fields as a JSON document; `position`, `state` and `disabled_reason` as attributes,
 * so advancing and disabling are conditional updates), and its delivery log in the partition
 * `DELIVERY#<id>`, sort key the zero-padded event id.
 */
const SUBSCRIPTIONS_PK = 'SUBSCRIPTION';
const deliveriesPk = (id: string) => `DELIVERY#${id}`;
const deliverySk = (eventId: number) => String(eventId).padStart(16, '0');

export class DynamoSubscriptions {
  private readonly doc: DynamoDBDocumentClient;
  private readonly table: string;

  constructor(opts: { doc: DynamoDBDocumentClient; table: string }) {
    this.doc = opts.doc;
    this.table = opts.table;
  }

  async create(s: StoredSubscription, audit?: AuditEntry): Promise<void> {
    const { position, state, disabled_reason, ...fixed } = s;
    await this.doc.send(
      new TransactWriteCommand({
        TransactItems: [
          {
            Put: {
              TableName: this.table,
              Item: {
                PK: SUBSCRIPTIONS_PK,
                SK: s.id,
                doc: JSON.stringify(fixed),
                position,
                state,
                disabled_reason,
              },
              ConditionExpression: 'attribute_not_exists(PK)',
            },
          },
          ...(audit ? [auditPut(this.table, audit)] : []),
        ],
      }),
    );
  }

  async get(id: string): Promise<StoredSubscription | null> {
    const out = await this.doc.send(
      new GetCommand({ TableName: this.table, Key: { PK: SUBSCRIPTIONS_PK, SK: id }, ConsistentRead: true }),
    );
    return out.Item ? parse(out.Item) : null;
  }

  async list(): Promise<StoredSubscription[]> {
    const found: StoredSubscription[] = [];
    for await (const items of partitionPages(this.doc, this.table, SUBSCRIPTIONS_PK)) {
      for (const item of items) found.push(parse(item));
    }
    return found.sort(bySubscriptionAge);
  }

  async delete(id: string, audit?: AuditEntry): Promise<boolean> {
    try {
      await this.doc.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Delete: {
                TableName: this.table,
                Key: { PK: SUBSCRIPTIONS_PK, SK: id },
                ConditionExpression: 'attribute_exists(PK)',
              },
            },
            ...(audit ? [auditPut(this.table, audit)] : []),
          ],
        }),
      );
    } catch (err) {
      if ((err as { name?: string }).name === 'TransactionCanceledException') return false;
      throw err;
    }
    // The log cannot ride in the transaction (it may exceed its 100 items); a record written
    // meanwhile is refused by recordDelivery's condition on the subscription.
    await this.deleteDeliveries(id, 0);
    return true;
  }

  async advance(id: string, position: number): Promise<void> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { PK: SUBSCRIPTIONS_PK, SK: id },
          UpdateExpression: 'SET #p = :p',
          ConditionExpression: 'attribute_exists(PK) AND #p < :p',
          ExpressionAttributeNames: { '#p': 'position' },
          ExpressionAttributeValues: { ':p': position },
        }),
      );
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
    }
  }

  async disable(id: string, reason: string, audit?: AuditEntry): Promise<boolean> {
    try {
      await this.doc.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Update: {
                TableName: this.table,
                Key: { PK: SUBSCRIPTIONS_PK, SK: id },
                UpdateExpression: 'SET #s = :disabled, disabled_reason = :reason',
                ConditionExpression: 'attribute_exists(PK) AND #s = :active',
                ExpressionAttributeNames: { '#s': 'state' },
                ExpressionAttributeValues: { ':disabled': 'disabled', ':active': 'active', ':reason': reason },
              },
            },
            ...(audit ? [auditPut(this.table, audit)] : []),
          ],
        }),
      );
      return true;
    } catch (err) {
      if ((err as { name?: string }).name === 'TransactionCanceledException') return false;
      throw err;
    }
  }

  async record(id: string, record: DeliveryRecord, keep: number): Promise<void> {
    try {
      await this.doc.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              ConditionCheck: {
                TableName: this.table,
                Key: { PK: SUBSCRIPTIONS_PK, SK: id },
                ConditionExpression: 'attribute_exists(PK)',
              },
            },
            {
              Put: {
                TableName: this.table,
                Item: { PK: deliveriesPk(id), SK: deliverySk(record.event_id), doc: JSON.stringify(record) },
              },
            },
          ],
        }),
      );
    } catch (err) {
      if ((err as { name?: string }).name === 'TransactionCanceledException') return;
      throw err;
    }
    await this.deleteDeliveries(id, keep);
  }

  async listDeliveries(id: string, limit: number): Promise<DeliveryRecord[]> {
    const out = await this.doc.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: 'PK = :pk',
        ExpressionAttributeValues: { ':pk': deliveriesPk(id) },
        ScanIndexForward: false,
        ConsistentRead: true,
        Limit: limit,
      }),
    );
    return (out.Items ?? []).map((item) => JSON.parse(String(item['doc'])) as DeliveryRecord);
  }

  /** Deletes the subscription's delivery records past the `keep` of the highest event ids. */
  private async deleteDeliveries(id: string, keep: number): Promise<void> {
    let seen = 0;
    const pages = partitionPages(this.doc, this.table, deliveriesPk(id), {
      ProjectionExpression: 'PK, SK',
      ScanIndexForward: false,
    });
    for await (const items of pages) {
      const doomed = items.slice(Math.max(0, keep - seen)).map((i) => ({ PK: i['PK'], SK: i['SK'] }));
      seen += items.length;
      for (let i = 0; i < doomed.length; i += 25) {
        let pending = doomed.slice(i, i + 25).map((Key) => ({ DeleteRequest: { Key } }));
        for (let attempt = 0; pending.length > 0 && attempt < 8; attempt++) {
          const res = await this.doc.send(new BatchWriteCommand({ RequestItems: { [this.table]: pending } }));
          pending = (res.UnprocessedItems?.[this.table] ?? []) as typeof pending;
        }
      }
    }
  }
}

function parse(item: Record<string, unknown>): StoredSubscription {
  const fixed = JSON.parse(String(item['doc'])) as Omit<StoredSubscription, 'position' | 'state' | 'disabled_reason'>;
  return {
    ...fixed,
    state: item['state'] === 'disabled' ? 'disabled' : 'active',
    disabled_reason: typeof item['disabled_reason'] === 'string' ? item['disabled_reason'] : null,
    position: Number(item['position']),
  };
}
