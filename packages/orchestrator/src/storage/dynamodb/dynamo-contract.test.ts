import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll } from 'vitest';
import { describeStoreContract } from '../contract.test-suite.js';
import { DynamoStore } from './dynamo-store.js';
import { type LocalDynamo, startLocalDynamo } from './local-dynamo.js';

// Opt-in: NESTOR_TEST_AWS_REGION=<region> (with credentials in the standard AWS environment) runs
// the same contract against real DynamoDB, one on-demand table `nestor-contract-<uuid>` per test.
const awsRegion = process.env.NESTOR_TEST_AWS_REGION;
let dynamo: LocalDynamo | null = null;

beforeAll(async () => {
  if (!awsRegion) dynamo = await startLocalDynamo();
});
afterAll(async () => {
  await dynamo?.close();
});

describeStoreContract(awsRegion ? `dynamodb (AWS ${awsRegion})` : 'dynamodb (dynalite)', async () => {
  const table = `nestor-contract-${randomUUID()}`;
  const store = dynamo
    ? new DynamoStore({ table, endpoint: dynamo.endpoint, region: dynamo.region, credentials: dynamo.credentials })
    : new DynamoStore({ table, region: awsRegion });
  await store.migrate();
  return { store };
});
