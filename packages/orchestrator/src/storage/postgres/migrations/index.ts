import { initial } from './001-initial.js';
import { lifecycle } from './002-lifecycle.js';
import { tokensAudit } from './003-tokens-audit.js';
import { dropStoreSearch } from './004-drop-store-search.js';
import { changesets } from './005-changesets.js';
import { webhooks } from './006-webhooks.js';
import type { Migration } from './migration.js';

/** Every migration of the PostgreSQL store, oldest first. Never edit a released one: add the next. */
export const migrations: readonly Migration[] = [
  initial,
  lifecycle,
  tokensAudit,
  dropStoreSearch,
  changesets,
  webhooks,
];
