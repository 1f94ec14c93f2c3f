import type { Migration } from './migration.js';

/**
 * The store keeps no search of its own (docs/decisions.md, decision 24): lists and searches are
 * answered by the in-process search projection, which builds from the latest versions. The search
 * terms, the filter columns and their indexes only slowed every write.
 */
export const dropStoreSearch: Migration = {
  id: 4,
  name: 'drop-store-search',
  sql: `
DROP INDEX IF EXISTS latest_default_provider;
DROP INDEX IF EXISTS latest_default_category;
DROP INDEX IF EXISTS latest_default_resource_type;
DROP INDEX IF EXISTS latest_labels;
DROP INDEX IF EXISTS latest_search_terms;
ALTER TABLE components
  DROP COLUMN IF EXISTS provider,
  DROP COLUMN IF EXISTS category,
  DROP COLUMN IF EXISTS resource_type,
  DROP COLUMN IF EXISTS maturity,
  DROP COLUMN IF EXISTS engines,
  DROP COLUMN IF EXISTS labels,
  DROP COLUMN IF EXISTS search_terms;
`,
};
