import type { Command } from 'commander';
import { loadConfig } from '../config/load.js';
import { createStore } from '../main.js';
import { systemClock } from '../observability/clock.js';
import { addStoreOptions, note } from './options.js';

export function registerMigrateCommand(program: Command): void {
  addStoreOptions(program.command('migrate').description('create or upgrade the store schema (idempotent)')).action(
    async (flags: { config?: string; store?: string; dataDir?: string }) => {
      const config = loadConfig({ ...flags, examples: false }, process.env);
      const store = await createStore(config, systemClock);
      try {
        const outcome = await store.migrate();
        note(
          outcome
            ? `migrated ${config.store.type} store: ${JSON.stringify(outcome)}`
            : `the ${config.store.type} store has no schema to migrate`,
        );
      } finally {
        await store.close();
      }
    },
  );
}
