import type { Migration } from './migration.js';

/**
 * API tokens (`/v1/tokens`): only the sha256 of each token is kept. Names are unique so that an
 * audit actor `token:<name>` names one token. The audit log (`/v1/audit`): ids sort by time, so
 * newest first is a backwards walk of the primary key.
 */
export const tokensAudit: Migration = {
  id: 3,
  name: 'tokens-audit',
  sql: `
CREATE TABLE tokens (
  id           text COLLATE "C" PRIMARY KEY,
  name         text COLLATE "C" NOT NULL UNIQUE,
  sha256       text NOT NULL,
  scopes       text NOT NULL,
  names        text NOT NULL,
  created_at   text COLLATE "C" NOT NULL,
  expires_at   text,
  last_used_at text COLLATE "C"
);
CREATE TABLE audit (
  id         text COLLATE "C" PRIMARY KEY,
  time       text COLLATE "C" NOT NULL,
  actor      text COLLATE "C" NOT NULL,
  action     text COLLATE "C" NOT NULL,
  subject    text COLLATE "C" NOT NULL,
  request_id text,
  ip         text,
  outcome    text NOT NULL,
  details    text NOT NULL
);
CREATE INDEX audit_time ON audit (time);
`,
};
