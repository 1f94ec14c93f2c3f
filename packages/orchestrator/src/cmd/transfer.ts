import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { create } from '@nestor/sdk';
import type { Command } from 'commander';
import { loadConfig } from '../config/load.js';
import { createStore } from '../main.js';
import { systemClock } from '../observability/clock.js';
import { exportCatalog, importCatalog, isImporter } from '../storage/transfer.js';
import { addStoreOptions, note } from './options.js';

type StoreFlags = { config?: string; store?: string; dataDir?: string };

export function registerTransferCommands(program: Command): void {
  addStoreOptions(
    program
      .command('export')
      .argument('<file>', 'NDJSON file to write')
      .description('write the whole catalog as NDJSON'),
  ).action(async (file: string, flags: StoreFlags) => {
    const config = loadConfig({ ...flags, examples: false }, process.env);
    const store = await createStore(config, systemClock);
    try {
      const out = createWriteStream(file, { flags: 'wx' });
      await once(out, 'open').catch((err: NodeJS.ErrnoException) => {
        throw create('invalid_request')
          .component('cli')
          .operation('Export')
          .message(
            `cannot create ${file}: ${err.code ?? err.message}${err.code === 'EEXIST' ? ' (it exists; export never overwrites)' : ''}`,
          )
          .build();
      });
      try {
        await exportCatalog(
          store,
          async (line) => {
            if (!out.write(`${line}\n`)) await once(out, 'drain');
          },
          { now: systemClock.now(), progress: note },
        );
        out.end();
        await once(out, 'finish');
      } catch (err) {
        // A failed export leaves no file behind: a part of one could be taken for the catalog, and
        // it would refuse the retry (export never overwrites).
        out.destroy();
        await rm(file, { force: true });
        throw err;
      }
    } finally {
      await store.close();
    }
  });

  addStoreOptions(
    program
      .command('import')
      .argument('<file>', 'NDJSON file written by nestor export')
      .description('load an export into an empty store (runs migrations first)'),
  ).action(async (file: string, flags: StoreFlags) => {
    const config = loadConfig({ ...flags, examples: false }, process.env);
    if (config.store.type === 'memory') {
      // The memory store lives only as long as this command: the import would be thrown away.
      throw create('invalid_request')
        .component('cli')
        .operation('Import')
        .message('importing into --store memory keeps nothing once the command ends; use sqlite, postgres or dynamodb')
        .build();
    }
    const input = createReadStream(file);
    await once(input, 'open').catch((err: NodeJS.ErrnoException) => {
      throw create('invalid_request')
        .component('cli')
        .operation('Import')
        .message(`cannot read ${file}: ${err.code ?? err.message}`)
        .build();
    });
    // Opening the SQLite and PostgreSQL stores applies pending migrations; DynamoDB's table is
    // created here, so an import into a new table needs no `nestor migrate` first.
    const store = await createStore(config, systemClock);
    try {
      await store.migrate();
      if (!isImporter(store)) {
        throw create('invalid_request')
          .component('cli')
          .operation('Import')
          .message(`the ${config.store.type} store cannot be imported into (sqlite, postgres and dynamodb can)`)
          .build();
      }
      // The iterator is taken at once: readline emits lines as soon as it exists, and only an
      // iterator already listening buffers them while importCatalog first queries the store.
      const iterator = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY })[Symbol.asyncIterator]();
      await importCatalog(store, { [Symbol.asyncIterator]: () => iterator }, { progress: note });
    } finally {
      input.destroy();
      await store.close();
    }
  });
}
