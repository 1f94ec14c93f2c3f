import { randomUUID } from 'node:crypto';
import { beforeAll } from 'vitest';
import { DYNAMODB_LOCAL_WAIT_MS, sharedDynamoDBLocal } from '../../../../test/dynamodb-local.js';
import { DynamoStore } from '../storage/dynamodb/dynamo-store.js';
import { describeSearchContract } from './search-contract.test-suite.js';

let dynamo: Awaited<ReturnType<typeof sharedDynamoDBLocal>> | null = null;

beforeAll(async () => {
  dynamo = await sharedDynamoDBLocal();
}, DYNAMODB_LOCAL_WAIT_MS + 10_000);

describeSearchContract('dynamodb (DynamoDB Local)', async () => {
  const local = dynamo as NonNullable<typeof dynamo>;
  const store = new DynamoStore({
    table: `nestor-search-${randomUUID()}`,
    endpoint: local.endpoint,
    region: local.region,
    credentials: local.credentials,
  });
  await store.migrate();
  return { store };
});
