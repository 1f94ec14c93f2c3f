import type { TestProject } from 'vitest/node';
import {
  type DynamoDBLocalProcess,
  freePort,
  LOCAL_CREDENTIALS,
  LOCAL_REGION,
  spawnDynamoDBLocal,
  stopDynamoDBLocal,
} from '../scripts/dynamodb-local.mjs';

/** What test files learn about the run's DynamoDB Local (see `test/dynamodb-local.ts`). */
export interface SharedDynamoDBLocal {
  endpoint: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  /** The JVM's folder (log and exit record), or null when it could not even be spawned. */
  dir: string | null;
  /** Why it could not be spawned. */
  error: string | null;
}

declare module 'vitest' {
  export interface ProvidedContext {
    dynamodbLocal: SharedDynamoDBLocal;
  }
}

/**
 * One DynamoDB Local per vitest run, shared by every file that needs it (each test uses its own
 * table). The JVM is spawned without waiting for it, so runs of files that never touch DynamoDB
 * do not wait for it; the files that do wait in `sharedDynamoDBLocal()`.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const port = await freePort();
  let proc: DynamoDBLocalProcess | null = null;
  let error: string | null = null;
  try {
    proc = spawnDynamoDBLocal({ port });
  } catch (err) {
    error = (err as Error).message;
  }
  project.provide('dynamodbLocal', {
    endpoint: `http://127.0.0.1:${port}`,
    region: LOCAL_REGION,
    credentials: { ...LOCAL_CREDENTIALS },
    dir: proc?.dir ?? null,
    error,
  });
  return async () => {
    if (proc) await stopDynamoDBLocal(proc);
  };
}
