import { describeStoreContract } from '../contract.test-suite.js';
import { PostgresStore } from './postgres-store.js';
import { dropSchema, randomSchema, TEST_POSTGRES_URL } from './testing.js';

// A fresh schema per test on the real server, dropped afterwards; never skipped.
describeStoreContract('postgres', async () => {
  const schema = randomSchema();
  return {
    store: await PostgresStore.open({ url: TEST_POSTGRES_URL, schema, poolSize: 4 }),
    cleanup: () => dropSchema(schema),
  };
});
