import type { Migration } from './migration.js';

/**
 * The first PostgreSQL schema; every statement runs inside the store's schema (search_path).
 * Text columns that order or page compare with COLLATE "C" (byte order), as SQLite and the memory
 * store do, so that cursors and sort orders agree across backends whatever the database locale.
 * `definition` is the stored JSON as text (not jsonb): it comes back byte for byte as written.
 */
export const initial: Migration = {
  id: 1,
  name: 'initial',
  sql: `
CREATE TABLE components (
  id              bigserial PRIMARY KEY,
  name            text COLLATE "C" NOT NULL,
  version         text COLLATE "C" NOT NULL,
  version_key     text COLLATE "C" NOT NULL,
  is_prerelease   boolean NOT NULL,
  digest          text NOT NULL,
  provider        text NOT NULL,
  category        text NOT NULL,
  resource_type   text NOT NULL,
  maturity        text NOT NULL,
  latest_default  boolean NOT NULL DEFAULT false,
  latest_any      boolean NOT NULL DEFAULT false,
  engines         text[] NOT NULL,
  labels          jsonb NOT NULL,
  -- Folded search terms of name, description and labels (storage/search-text.ts): candidates are
  -- found here, ranking is done by the shared scorer so every backend ranks alike.
  search_terms    text[] NOT NULL,
  definition      text NOT NULL,
  UNIQUE (name, version)
);
CREATE INDEX components_versions ON components (name, version_key);
CREATE UNIQUE INDEX latest_default_name ON components (name) WHERE latest_default;
CREATE UNIQUE INDEX latest_any_name ON components (name) WHERE latest_any;
CREATE INDEX latest_default_provider ON components (provider, name) WHERE latest_default;
CREATE INDEX latest_default_category ON components (category, name) WHERE latest_default;
CREATE INDEX latest_default_resource_type ON components (resource_type, name) WHERE latest_default;
CREATE INDEX latest_labels ON components USING gin (labels jsonb_path_ops) WHERE latest_default OR latest_any;
CREATE INDEX latest_search_terms ON components USING gin (search_terms) WHERE latest_default OR latest_any;

CREATE TABLE dependencies (
  component_id  bigint NOT NULL REFERENCES components (id),
  position      integer NOT NULL,
  dep_name      text COLLATE "C" NOT NULL,
  version_range text NOT NULL,
  PRIMARY KEY (component_id, position)
);
CREATE INDEX dependencies_dep_name ON dependencies (dep_name);

-- The head of the event log in one row. Every append locks it (FOR UPDATE) for the rest of its
-- transaction, so appends commit one after another in sequence order: a reader can never see
-- event N+1 before N. It also keeps the head when compaction empties the log.
CREATE TABLE event_head (
  only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
  seq      bigint NOT NULL
);
INSERT INTO event_head (seq) VALUES (0);

CREATE TABLE events (
  seq             bigint PRIMARY KEY,
  type            text NOT NULL,
  time            text NOT NULL,
  subject_name    text NOT NULL,
  subject_version text,
  subject_digest  text,
  data            text NOT NULL
);

CREATE TABLE engines (
  name       text COLLATE "C" PRIMARY KEY,
  definition text NOT NULL
);

CREATE TABLE state (
  key   text PRIMARY KEY,
  value text NOT NULL
);

CREATE TABLE leases (
  name       text PRIMARY KEY,
  holder     text NOT NULL,
  expires_at bigint NOT NULL
);
`,
};
