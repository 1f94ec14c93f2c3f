import { inject } from 'vitest';
import { waitForDynamoDBLocal } from '../scripts/dynamodb-local.mjs';
import type { SharedDynamoDBLocal } from './dynamodb-local.global.js';

/** How long a file waits for the shared JVM: it starts in ~5 s idle, ~30 s on a loaded machine. */
export const DYNAMODB_LOCAL_WAIT_MS = 150_000;

/**
 * The run's DynamoDB Local (started by `test/dynamodb-local.global.ts`), once it answers. Call it
 * from a `beforeAll` with a timeout above `DYNAMODB_LOCAL_WAIT_MS`.
 */
export async function sharedDynamoDBLocal(): Promise<Omit<SharedDynamoDBLocal, 'dir' | 'error'>> {
  const shared = inject('dynamodbLocal');
  if (shared.error) throw new Error(`DynamoDB Local could not be started: ${shared.error}`);
  await waitForDynamoDBLocal(shared.endpoint, { timeoutMs: DYNAMODB_LOCAL_WAIT_MS - 5000, dir: shared.dir });
  return { endpoint: shared.endpoint, region: shared.region, credentials: shared.credentials };
}
