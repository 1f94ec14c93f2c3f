import type { Migration } from './migration.js';

/**
 * Outgoing webhooks (`/v1/subscriptions`): each subscription with its delivery position (the last
 * event sequence delivered or skipped, so delivery resumes after a restart), and a bounded delivery
 * log, one row per (subscription, event) holding the latest attempt.
 */
export const webhooks: Migration = {
  id: 7,
  name: 'webhooks',
  sql: `
CREATE TABLE subscriptions (
  id              TEXT PRIMARY KEY,
  url             TEXT NOT NULL,
  types           TEXT NOT NULL,
  filter          TEXT NOT NULL,
  secret          TEXT NOT NULL,
  created_at      TEXT NOT NULL,
  state           TEXT NOT NULL,
  disabled_reason TEXT,
  position        INTEGER NOT NULL
);
CREATE TABLE deliveries (
  subscription_id TEXT NOT NULL,
  event_id        INTEGER NOT NULL,
  attempt         INTEGER NOT NULL,
  status          TEXT NOT NULL,
  response_status INTEGER,
  time            TEXT NOT NULL,
  PRIMARY KEY (subscription_id, event_id)
) WITHOUT ROWID;
`,
};
