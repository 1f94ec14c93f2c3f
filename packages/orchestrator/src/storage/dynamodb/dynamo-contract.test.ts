import { randomUUID } from 'node:crypto';
import { beforeAll } from 'vitest';
import { DYNAMODB_LOCAL_WAIT_MS, sharedDynamoDBLocal } from '../../../../../test/dynamodb-local.js';
import { describeStoreContract } from '../contract.test-suite.js';
import { DynamoStore } from './dynamo-store.js';

// Opt-in: NESTOR_TEST_AWS_REGION=<region> (with credentials in the standard AWS environment) runs
// the same contract against real DynamoDB, one on-demand table `nestor-contract-<uuid>` per test.
const awsRegion = process.env.NESTOR_TEST_AWS_REGION;
let dynamo: Awaited<ReturnType<typeof sharedDynamoDBLocal>> | null = null;

beforeAll(async () => {
  if (!awsRegion) dynamo = await sharedDynamoDBLocal();
}, DYNAMODB_LOCAL_WAIT_MS + 10_000);

describeStoreContract(awsRegion ? `dynamodb (AWS ${awsRegion})` : 'dynamodb (DynamoDB Local)', async () => {
  const table = `nestor-contract-${randomUUID()}`;
  const store = dynamo
    ? new DynamoStore({ table, endpoint: dynamo.endpoint, region: dynamo.region, credentials: dynamo.credentials })
    : new DynamoStore({ table, region: awsRegion });
  await store.migrate();
  return { store };
});
