import {
  CreateTableCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  ResourceNotFoundException,
  UpdateTableCommand,
} from '@aws-sdk/client-dynamodb';
import { tableDefinition } from './table.js';
import { sleep } from './transactions.js';

/**
 * Creates the table and its indexes when missing, adds any missing index to an existing table and
 * waits until everything is active. Safe to run any number of times.
 */
export async function migrateTable(
  client: DynamoDBClient,
  table: string,
): Promise<{ created: boolean; addedIndexes: string[] }> {
  const def = tableDefinition(table);
  let created = false;
  let existing = await describeTable(client, table);
  if (!existing) {
    try {
      await client.send(new CreateTableCommand(def));
      created = true;
    } catch (err) {
      if ((err as { name?: string }).name !== 'ResourceInUseException') throw err;
    }
    existing = await waitActive(client, table);
  }
  const have = new Set((existing?.GlobalSecondaryIndexes ?? []).map((i) => i.IndexName));
  const addedIndexes: string[] = [];
  for (const gsi of def.GlobalSecondaryIndexes) {
    if (have.has(gsi.IndexName)) continue;
    await client.send(
      new UpdateTableCommand({
        TableName: table,
        AttributeDefinitions: def.AttributeDefinitions,
        GlobalSecondaryIndexUpdates: [{ Create: gsi }],
      }),
    );
    addedIndexes.push(gsi.IndexName);
    await waitActive(client, table);
  }
  return { created, addedIndexes };
}

async function describeTable(client: DynamoDBClient, table: string) {
  try {
    const out = await client.send(new DescribeTableCommand({ TableName: table }));
    return out.Table ?? null;
  } catch (err) {
    if (err instanceof ResourceNotFoundException || (err as { name?: string }).name === 'ResourceNotFoundException')
      return null;
    throw err;
  }
}

async function waitActive(client: DynamoDBClient, table: string) {
  for (let i = 0; i < 600; i++) {
    const t = await describeTable(client, table);
    const indexesActive = (t?.GlobalSecondaryIndexes ?? []).every((g) => g.IndexStatus === 'ACTIVE');
    if (t && t.TableStatus === 'ACTIVE' && indexesActive) return t;
    await sleep(Math.min(100 * 2 ** i, 2000));
  }
  throw new Error(`table ${table} did not become active`);
}
