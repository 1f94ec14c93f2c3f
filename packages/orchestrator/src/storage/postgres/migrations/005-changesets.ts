import type { Migration } from './migration.js';

/**
 * Changesets (`GET /v1/changesets/{id}`): one row per written set, its members as JSON. The
 * members' versions and events live where every create puts them; this row only names the set.
 */
export const changesets: Migration = {
  id: 5,
  name: 'changesets',
  sql: `
CREATE TABLE changesets (
  id       text COLLATE "C" PRIMARY KEY,
  time     text NOT NULL,
  actor    text NOT NULL,
  message  text,
  revision bigint NOT NULL,
  items    text NOT NULL
);
`,
};
