import type { Command } from 'commander';
import { buildInfo } from '../version.js';

export function registerVersionCommand(program: Command): void {
  program
    .command('version')
    .description('print version information as JSON')
    .action(() => {
      process.stdout.write(`${JSON.stringify(buildInfo(process.env), null, 2)}\n`);
    });
}
