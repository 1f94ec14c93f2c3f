import type { Migration } from './migration.js';

/**
 * The first schema. Components keep their full definition as JSON plus the columns that queries
 * filter and order on. `version_key` (the SDK's versionSortKey) makes semver order an index order;
 * `latest_default` / `latest_any` flag the version `getLatestComponent` picks without and with
 * prereleases, so the list and latest are index range scans over partial indexes.
 */
export const initial: Migration = {
  id: 1,
  name: 'initial',
  sql: `
CREATE TABLE components (
  id              INTEGER PRIMARY KEY,
  name            TEXT    NOT NULL,
  version         TEXT    NOT NULL,
  version_key     TEXT    NOT NULL,
  is_prerelease   INTEGER NOT NULL,
  digest          TEXT    NOT NULL,
  provider        TEXT    NOT NULL,
  category        TEXT    NOT NULL,
  resource_type   TEXT    NOT NULL,
  maturity        TEXT    NOT NULL,
  latest_default  INTEGER NOT NULL DEFAULT 0,
  latest_any      INTEGER NOT NULL DEFAULT 0,
  definition      TEXT    NOT NULL,
  UNIQUE (name, version)
);
CREATE INDEX components_versions ON components (name, version_key);

-- Lists filter the latest versions; each filter column gets a partial index ordered by name. Lists
-- that count prereleases are rarer: they walk the name index and filter, which keeps every insert
-- from touching four more indexes.
CREATE UNIQUE INDEX latest_default_name ON components (name) WHERE latest_default = 1;
CREATE INDEX latest_default_provider ON components (provider, name) WHERE latest_default = 1;
CREATE INDEX latest_default_category ON components (category, name) WHERE latest_default = 1;
CREATE INDEX latest_default_resource_type ON components (resource_type, name) WHERE latest_default = 1;
CREATE INDEX latest_default_maturity ON components (maturity, name) WHERE latest_default = 1;
CREATE UNIQUE INDEX latest_any_name ON components (name) WHERE latest_any = 1;

CREATE TABLE component_engines (
  component_id INTEGER NOT NULL REFERENCES components (id),
  engine       TEXT    NOT NULL,
  PRIMARY KEY (engine, component_id)
) WITHOUT ROWID;

CREATE TABLE component_labels (
  component_id INTEGER NOT NULL REFERENCES components (id),
  key          TEXT    NOT NULL,
  value        TEXT    NOT NULL,
  PRIMARY KEY (key, value, component_id)
) WITHOUT ROWID;
CREATE INDEX component_labels_component ON component_labels (component_id);

CREATE TABLE dependencies (
  component_id  INTEGER NOT NULL REFERENCES components (id),
  position      INTEGER NOT NULL,
  dep_name      TEXT    NOT NULL,
  version_range TEXT    NOT NULL,
  PRIMARY KEY (component_id, position)
) WITHOUT ROWID;
CREATE INDEX dependencies_dep_name ON dependencies (dep_name);

-- Search indexes hold exactly the latest versions, one table per notion of latest, so that an
-- unfiltered search is a pure FTS query. rowid = components.id; rank = bm25 with the name weighted
-- above labels and labels above the description.
CREATE VIRTUAL TABLE search_default USING fts5 (
  name, description, labels,
  tokenize = 'unicode61 remove_diacritics 2'
);
INSERT INTO search_default (search_default, rank) VALUES ('rank', 'bm25(10.0, 1.0, 2.0)');
CREATE VIRTUAL TABLE search_any USING fts5 (
  name, description, labels,
  tokenize = 'unicode61 remove_diacritics 2'
);
INSERT INTO search_any (search_any, rank) VALUES ('rank', 'bm25(10.0, 1.0, 2.0)');

-- AUTOINCREMENT: a sequence is never handed out twice, even after compaction deleted the newest.
CREATE TABLE events (
  seq             INTEGER PRIMARY KEY AUTOINCREMENT,
  type            TEXT NOT NULL,
  time            TEXT NOT NULL,
  subject_name    TEXT NOT NULL,
  subject_version TEXT,
  subject_digest  TEXT,
  data            TEXT NOT NULL
);

CREATE TABLE engines (
  name       TEXT PRIMARY KEY,
  definition TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE state (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE leases (
  name       TEXT PRIMARY KEY,
  holder     TEXT NOT NULL,
  expires_at INTEGER NOT NULL
) WITHOUT ROWID;
`,
};
