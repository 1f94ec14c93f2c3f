import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll } from 'vitest';
import { describeStoreContract } from '../contract.test-suite.js';
import { DynamoStore } from './dynamo-store.js';
import { type LocalDynamo, startLocalDynamo } from './local-dynamo.js';

let dynamo: LocalDynamo;
beforeAll(async () => {
  dynamo = await startLocalDynamo();
});
afterAll(() => dynamo.close());

describeStoreContract('dynamodb (dynalite)', async () => {
  const store = new DynamoStore({
    table: `contract-${randomUUID()}`,
    endpoint: dynamo.endpoint,
    region: dynamo.region,
    credentials: dynamo.credentials,
  });
  await store.migrate();
  return { store };
});
