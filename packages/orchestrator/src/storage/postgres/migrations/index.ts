import { initial } from './001-initial.js';
import { tokensAudit } from './002-tokens-audit.js';
import type { Migration } from './migration.js';

/** Every migration of the PostgreSQL store, oldest first. Never edit a released one: add the next. */
export const migrations: readonly Migration[] = [initial, tokensAudit];
