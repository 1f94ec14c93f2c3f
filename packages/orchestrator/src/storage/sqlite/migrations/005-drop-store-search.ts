import type { Migration } from './migration.js';

/**
 * The store keeps no search of its own (docs/decisions.md, decision 24): lists and searches are
 * answered by the in-process search projection, which builds from the latest versions. The FTS
 * table, the filter tables and the filter columns with their partial indexes only slowed every
 * write. Each index is dropped before its column, as SQLite requires.
 */
export const dropStoreSearch: Migration = {
  id: 5,
  name: 'drop-store-search',
  sql: `
DROP TABLE IF EXISTS search;
DROP TABLE IF EXISTS component_engines;
DROP TABLE IF EXISTS component_labels;
DROP INDEX IF EXISTS latest_default_provider;
DROP INDEX IF EXISTS latest_default_category;
DROP INDEX IF EXISTS latest_default_resource_type;
DROP INDEX IF EXISTS latest_default_maturity;
ALTER TABLE components DROP COLUMN provider;
ALTER TABLE components DROP COLUMN category;
ALTER TABLE components DROP COLUMN resource_type;
ALTER TABLE components DROP COLUMN maturity;
`,
};
