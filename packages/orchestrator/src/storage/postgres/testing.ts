import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** The PostgreSQL the tests use: NESTOR_TEST_POSTGRES_URL, else the local one on 5432. */
export const TEST_POSTGRES_URL = process.env.NESTOR_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** A fresh schema name, `nestor_test_<16 hex>`. */
export function randomSchema(): string {
  return `nestor_test_${randomBytes(8).toString('hex')}`;
}

/** Drops a schema made by a test, with everything in it. */
export async function dropSchema(schema: string, url = TEST_POSTGRES_URL): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await client.end();
  }
}
