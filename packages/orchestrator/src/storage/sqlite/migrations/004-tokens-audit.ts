import type { Migration } from './migration.js';

/**
 * API tokens (`/v1/tokens`): only the sha256 of each token is kept. Names are unique so that an
 * audit actor `token:<name>` names one token. The audit log (`/v1/audit`): ids sort by time, so
 * newest first is a backwards walk of the primary key.
 */
export const tokensAudit: Migration = {
  id: 4,
  name: 'tokens-audit',
  sql: `
CREATE TABLE tokens (
  id           TEXT PRIMARY KEY,
  name         TEXT NOT NULL UNIQUE,
  sha256       TEXT NOT NULL,
  scopes       TEXT NOT NULL,
  names        TEXT NOT NULL,
  created_at   TEXT NOT NULL,
  expires_at   TEXT,
  last_used_at TEXT
);
CREATE TABLE audit (
  id         TEXT PRIMARY KEY,
  time       TEXT NOT NULL,
  actor      TEXT NOT NULL,
  action     TEXT NOT NULL,
  subject    TEXT NOT NULL,
  request_id TEXT,
  ip         TEXT,
  outcome    TEXT NOT NULL,
  details    TEXT NOT NULL
);
CREATE INDEX audit_time ON audit (time);
`,
};
