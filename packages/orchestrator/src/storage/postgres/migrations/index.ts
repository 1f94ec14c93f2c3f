import { initial } from './001-initial.js';
import { tokensAudit } from './002-tokens-audit.js';

/** One schema change, applied once, in increasing id order, each in its own transaction. */
export interface Migration {
  id: number;
  name: string;
  sql: string;
}

/** Every migration of the PostgreSQL store, oldest first. Never edit a released one: add the next. */
export const migrations: readonly Migration[] = [initial, tokensAudit];
