import type { Migration } from './index.js';

/**
 * API tokens (`/v1/tokens`): only the sha256 of each token is kept. Names are unique so that an
 * audit actor `token:<name>` names one token.
 */
export const tokens: Migration = {
  id: 2,
  name: 'tokens',
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
`,
};
