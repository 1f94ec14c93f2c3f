import type { Migration } from './index.js';

/**
 * API tokens (`/v1/tokens`): only the sha256 of each token is kept. Names are unique so that an
 * audit actor `token:<name>` names one token.
 */
export const tokens: Migration = {
  id: 3,
  name: 'tokens',
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
`,
};
