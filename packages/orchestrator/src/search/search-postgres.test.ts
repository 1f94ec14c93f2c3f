import { PostgresStore } from '../storage/postgres/postgres-store.js';
import { dropSchema, randomSchema, TEST_POSTGRES_URL } from '../storage/postgres/testing.js';
import { describeSearchContract } from './search-contract.test-suite.js';

describeSearchContract('postgres', async () => {
  const schema = randomSchema();
  return {
    store: await PostgresStore.open({ url: TEST_POSTGRES_URL, schema, poolSize: 4 }),
    cleanup: () => dropSchema(schema),
  };
});
