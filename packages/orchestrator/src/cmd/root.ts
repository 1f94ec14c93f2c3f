import { NestorError } from '@nestor/sdk';
import { Command, CommanderError } from 'commander';
import { buildInfo } from '../version.js';
import { registerDiffCommand } from './diff.js';
import { registerInitCommand } from './init.js';
import { registerLifecycleCommands } from './lifecycle.js';
import { registerMigrateCommand } from './migrate.js';
import { registerPublishCommand } from './publish.js';
import { registerServeCommand } from './serve.js';
import { registerSyncCommand } from './sync.js';
import { registerTokenCommand } from './token.js';
import { registerTransferCommands } from './transfer.js';
import { registerValidateCommand } from './validate.js';
import { registerVersionCommand } from './version.js';

/** Builds the `nestor` program with every command. */
export function buildProgram(): Command {
  const program = new Command('nestor')
    .description('Nestor Orchestrator: the global catalog of versioned infrastructure components')
    .version(buildInfo(process.env).version, '-V, --version')
    .showHelpAfterError()
    .exitOverride();
  registerServeCommand(program);
  registerMigrateCommand(program);
  registerSyncCommand(program);
  registerTransferCommands(program);
  registerValidateCommand(program);
  registerDiffCommand(program);
  registerInitCommand(program);
  registerLifecycleCommands(program);
  registerPublishCommand(program);
  registerTokenCommand(program);
  registerVersionCommand(program);
  return program;
}

/** Runs the CLI and returns the exit code; errors are printed as one clear line, never a stack trace. */
export async function run(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    // Help and --version exit 0; every other commander error is a usage error (bad flag, unknown
    // command, a value outside its choices), which the CLI reports as 2.
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    if (NestorError.is(err)) {
      process.stderr.write(`nestor: ${err.message} (${err.code})\n`);
      return 2;
    }
    process.stderr.write(`nestor: ${(err as Error).message ?? String(err)}\n`);
    return 1;
  }
}
