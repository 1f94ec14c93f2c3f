import { type Command, Option } from 'commander';

/** Flags every command that opens the store shares: `--config`, `--store`, `--data-dir`. */
export function addStoreOptions(cmd: Command): Command {
  return cmd
    .option('-c, --config <file>', 'YAML config file (defaults < file < NESTOR_* env < flags)')
    .addOption(new Option('--store <type>', 'storage backend').choices(['memory', 'sqlite', 'dynamodb', 'postgres']))
    .option('--data-dir <dir>', 'folder for the SQLite file, git clones and the admin token hash (default ./data)');
}

/** Writes a line to stderr; commands keep stdout for their results. */
export function note(message: string): void {
  process.stderr.write(`${message}\n`);
}
