import type { Migration } from './migration.js';

/**
 * Outgoing webhooks (`/v1/subscriptions`): each subscription with its delivery position (the last
 * event sequence delivered or skipped, so delivery resumes after a restart), and a bounded delivery
 * log, one row per (subscription, event) holding the latest attempt.
 */
export const webhooks: Migration = {
  id: 6,
  name: 'webhooks',
  sql: `
CREATE TABLE subscriptions (
  id              text COLLATE "C" PRIMARY KEY,
  url             text NOT NULL,
  types           text NOT NULL,
  filter          text NOT NULL,
  secret          text NOT NULL,
  created_at      text COLLATE "C" NOT NULL,
  state           text NOT NULL,
  disabled_reason text,
  position        bigint NOT NULL
);
CREATE TABLE deliveries (
  subscription_id text COLLATE "C" NOT NULL REFERENCES subscriptions (id) ON DELETE CASCADE,
  event_id        bigint NOT NULL,
  attempt         integer NOT NULL,
  status          text NOT NULL,
  response_status integer,
  time            text NOT NULL,
  PRIMARY KEY (subscription_id, event_id)
);
`,
};
