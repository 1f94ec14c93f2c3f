import type { Command } from 'commander';
import { loadConfig } from '../config/load.js';
import { createStore } from '../main.js';
import { systemClock } from '../observability/clock.js';
import { addStoreOptions, note } from './options.js';

/** Stores that have a schema to create or upgrade. */
interface Migratable {
  migrate(): Promise<unknown> | unknown;
}

export function isMigratable(store: object): store is Migratable {
  return typeof (store as Partial<Migratable>).migrate === 'function';
}

export function registerMigrateCommand(program: Command): void {
  addStoreOptions(program.command('migrate').description('create or upgrade the store schema (idempotent)')).action(
    async (flags: { config?: string; store?: string; dataDir?: string }) => {
      const config = loadConfig({ ...flags, examples: false }, process.env);
      const store = await createStore(config, systemClock);
      try {
        if (isMigratable(store)) {
          const outcome = await store.migrate();
          note(`migrated ${config.store.type} store${outcome ? `: ${JSON.stringify(outcome)}` : ''}`);
        } else {
          note(`the ${config.store.type} store has no schema to migrate`);
        }
      } finally {
        await store.close();
      }
    },
  );
}
