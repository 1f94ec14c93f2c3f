import { initial } from './001-initial.js';
import { oneSearchTable } from './002-one-search-table.js';
import { lifecycle } from './003-lifecycle.js';
import { tokensAudit } from './004-tokens-audit.js';
import { dropStoreSearch } from './005-drop-store-search.js';
import { changesets } from './006-changesets.js';
import { webhooks } from './007-webhooks.js';
import type { Migration } from './migration.js';

/**
 * Every migration of the SQLite store, oldest first. They are TypeScript modules rather than .sql
 * files so that the build needs no copy step. Never edit a released migration: add the next one.
 */
export const migrations: readonly Migration[] = [
  initial,
  oneSearchTable,
  lifecycle,
  tokensAudit,
  dropStoreSearch,
  changesets,
  webhooks,
];
