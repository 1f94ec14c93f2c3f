import type { Migration } from './migration.js';

/**
 * Changesets (`GET /v1/changesets/{id}`): one row per written set, its members as JSON. The
 * members' versions and events live where every create puts them; this row only names the set.
 */
export const changesets: Migration = {
  id: 6,
  name: 'changesets',
  sql: `
CREATE TABLE changesets (
  id       TEXT PRIMARY KEY,
  time     TEXT NOT NULL,
  actor    TEXT NOT NULL,
  message  TEXT,
  revision INTEGER NOT NULL,
  items    TEXT NOT NULL
);
`,
};
