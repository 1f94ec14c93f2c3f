import type { Migration } from './migration.js';

/**
 * Lifecycle states (DESIGN.md 10.3). The state lives in the definition, as every other field does;
 * `deleted_at` (set while a version is deleted and not yet purged) lets the purge find its work
 * through an index. Stored definitions gain `revoked` and `orphaned` (null), which reads now show.
 */
export const lifecycle: Migration = {
  id: 2,
  name: 'lifecycle',
  sql: `
ALTER TABLE components ADD COLUMN deleted_at text COLLATE "C";
CREATE INDEX components_deleted_at ON components (deleted_at) WHERE deleted_at IS NOT NULL;
UPDATE components SET definition = (definition::jsonb || '{"revoked": null, "orphaned": null}'::jsonb)::text
  WHERE NOT (definition::jsonb ? 'revoked');
`,
};
