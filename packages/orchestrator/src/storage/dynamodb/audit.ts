import { BatchWriteCommand, type DynamoDBDocumentClient, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { auditMatches } from '../audit-records.js';
import type { AuditEntry, AuditQuery, Page } from '../interfaces.js';
import type { TransactItem } from './transactions.js';

/**
 * The audit log in the single table: one partition `AUDIT`, sort key the entry id (which sorts by
 * time), so newest first is one backwards Query. Entries of changes ride in the change's own
 * TransactWriteItems (`auditPut`).
 */
const AUDIT_PK = 'AUDIT';

export function auditPut(table: string, entry: AuditEntry): TransactItem {
  return {
    Put: { TableName: table, Item: { PK: AUDIT_PK, SK: entry.id, time: entry.time, doc: JSON.stringify(entry) } },
  };
}

export class DynamoAudit {
  private readonly doc: DynamoDBDocumentClient;
  private readonly table: string;

  constructor(opts: { doc: DynamoDBDocumentClient; table: string }) {
    this.doc = opts.doc;
    this.table = opts.table;
  }

  async append(entry: AuditEntry): Promise<void> {
    const put = auditPut(this.table, entry).Put;
    if (put) await this.doc.send(new PutCommand({ TableName: this.table, Item: put.Item }));
  }

  async list(query: AuditQuery): Promise<Page<AuditEntry>> {
    const found: AuditEntry[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const out = await this.doc.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: query.cursor ? 'PK = :pk AND SK < :cursor' : 'PK = :pk',
          ExpressionAttributeValues: { ':pk': AUDIT_PK, ...(query.cursor ? { ':cursor': query.cursor } : {}) },
          ScanIndexForward: false,
          ConsistentRead: true,
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of out.Items ?? []) {
        const entry = JSON.parse(String(item['doc'])) as AuditEntry;
        if (auditMatches(entry, query)) found.push(entry);
        if (found.length > query.limit) break;
      }
      startKey = found.length > query.limit ? undefined : out.LastEvaluatedKey;
    } while (startKey);
    const items = found.slice(0, query.limit);
    return { items, nextCursor: found.length > query.limit ? (items.at(-1)?.id ?? null) : null };
  }

  async prune(before: string): Promise<number> {
    const bound = `${String(new Date(before).getTime()).padStart(15, '0')}`;
    let removed = 0;
    let startKey: Record<string, unknown> | undefined;
    do {
      const out = await this.doc.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: 'PK = :pk AND SK < :bound',
          ExpressionAttributeValues: { ':pk': AUDIT_PK, ':bound': bound },
          ProjectionExpression: 'PK, SK',
          ConsistentRead: true,
          ExclusiveStartKey: startKey,
        }),
      );
      const keys = (out.Items ?? []).map((i) => ({ PK: i['PK'], SK: i['SK'] }));
      for (let i = 0; i < keys.length; i += 25) {
        let pending = keys.slice(i, i + 25).map((Key) => ({ DeleteRequest: { Key } }));
        for (let attempt = 0; pending.length > 0 && attempt < 8; attempt++) {
          const res = await this.doc.send(new BatchWriteCommand({ RequestItems: { [this.table]: pending } }));
          pending = (res.UnprocessedItems?.[this.table] ?? []) as typeof pending;
        }
        removed += Math.min(25, keys.length - i);
      }
      startKey = out.LastEvaluatedKey;
    } while (startKey);
    return removed;
  }
}
