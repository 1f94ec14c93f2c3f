import { type DynamoDBDocumentClient, GetCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { tokenConflict } from '../errors.js';
import type { AuditEntry, StoredToken } from '../interfaces.js';
import { auditPut } from './audit.js';
import { partitionPages } from './partition.js';
import { COMPONENT, isConditionFailure } from './transactions.js';

/**
 * API tokens in the single table: one item per token under `TOKEN`/<id>, and a claim item
 * `TOKENNAME`/<name> written in the same transaction, so that names stay unique across replicas.
 */
const TOKENS_PK = 'TOKEN';
const TOKEN_NAMES_PK = 'TOKENNAME';

export class DynamoTokens {
  private readonly doc: DynamoDBDocumentClient;
  private readonly table: string;

  constructor(opts: { doc: DynamoDBDocumentClient; table: string }) {
    this.doc = opts.doc;
    this.table = opts.table;
  }

  async create(token: StoredToken, audit?: AuditEntry): Promise<void> {
    try {
      await this.doc.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Put: {
                TableName: this.table,
                Item: { PK: TOKEN_NAMES_PK, SK: token.name, id: token.id },
                ConditionExpression: 'attribute_not_exists(PK)',
              },
            },
            {
              Put: {
                TableName: this.table,
                Item: { PK: TOKENS_PK, SK: token.id, doc: JSON.stringify(token) },
                ConditionExpression: 'attribute_not_exists(PK)',
              },
            },
            ...(audit ? [auditPut(this.table, audit)] : []),
          ],
        }),
      );
    } catch (err) {
      if ((err as { name?: string }).name === 'TransactionCanceledException') {
        const codes = ((err as { CancellationReasons?: { Code?: string }[] }).CancellationReasons ?? []).map(
          (r) => r.Code,
        );
        if (codes.includes('ConditionalCheckFailed')) throw tokenConflict(COMPONENT, 'CreateToken', token.name);
      }
      throw err;
    }
  }

  async get(id: string): Promise<StoredToken | null> {
    const out = await this.doc.send(
      new GetCommand({ TableName: this.table, Key: { PK: TOKENS_PK, SK: id }, ConsistentRead: true }),
    );
    return out.Item ? parse(out.Item) : null;
  }

  async list(): Promise<StoredToken[]> {
    const tokens: StoredToken[] = [];
    for await (const items of partitionPages(this.doc, this.table, TOKENS_PK)) {
      for (const item of items) tokens.push(parse(item));
    }
    return tokens.sort((a, b) =>
      a.created_at === b.created_at ? (a.id < b.id ? -1 : 1) : a.created_at < b.created_at ? -1 : 1,
    );
  }

  async delete(id: string, audit?: AuditEntry): Promise<boolean> {
    const token = await this.get(id);
    if (!token) return false;
    try {
      await this.doc.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Delete: {
                TableName: this.table,
                Key: { PK: TOKENS_PK, SK: id },
                ConditionExpression: 'attribute_exists(PK)',
              },
            },
            {
              Delete: {
                TableName: this.table,
                Key: { PK: TOKEN_NAMES_PK, SK: token.name },
                ConditionExpression: 'id = :id',
                ExpressionAttributeValues: { ':id': id },
              },
            },
            ...(audit ? [auditPut(this.table, audit)] : []),
          ],
        }),
      );
      return true;
    } catch (err) {
      // Another replica deleted it between the read and the write.
      if ((err as { name?: string }).name === 'TransactionCanceledException') return false;
      throw err;
    }
  }

  async touch(id: string, at: string, notBefore: string): Promise<void> {
    const token = await this.get(id);
    if (!token || (token.last_used_at !== null && token.last_used_at >= notBefore)) return;
    try {
      // The whole document is replaced only if nobody else touched it since the read.
      await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { PK: TOKENS_PK, SK: id },
          UpdateExpression: 'SET #doc = :doc, last_used_at = :at',
          ConditionExpression: 'attribute_exists(PK) AND (attribute_not_exists(last_used_at) OR last_used_at < :nb)',
          ExpressionAttributeNames: { '#doc': 'doc' },
          ExpressionAttributeValues: {
            ':doc': JSON.stringify({ ...token, last_used_at: at }),
            ':at': at,
            ':nb': notBefore,
          },
        }),
      );
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
    }
  }
}

function parse(item: Record<string, unknown>): StoredToken {
  return JSON.parse(String(item['doc'])) as StoredToken;
}
