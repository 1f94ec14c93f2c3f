import type { Migration } from './migration.js';

/**
 * Lifecycle states (DESIGN.md 10.3). The state itself lives in the definition, as every other
 * field does; `deleted_at` (set while a version is deleted and not yet purged) lets the purge find
 * its work with an index instead of reading every row. Stored definitions gain `revoked` and
 * `orphaned` (null), which every read now shows.
 */
export const lifecycle: Migration = {
  id: 3,
  name: 'lifecycle',
  sql: `
ALTER TABLE components ADD COLUMN deleted_at TEXT;
CREATE INDEX components_deleted_at ON components (deleted_at) WHERE deleted_at IS NOT NULL;
UPDATE components SET definition = json_set(definition, '$.revoked', json('null'), '$.orphaned', json('null'))
  WHERE json_extract(definition, '$.revoked') IS NULL;
`,
};
