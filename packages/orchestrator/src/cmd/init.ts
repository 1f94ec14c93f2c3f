import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline/promises';
import type { Command } from 'commander';
import { nameProblem } from '../validation/rules/common.js';

/** Flags of `nestor init`. */
export interface InitFlags {
  out?: string | undefined;
  provider?: string | undefined;
  category?: string | undefined;
  resourceType?: string | undefined;
  /** Orchestrator whose `/v1/schemas/component.json` the `$schema` line names. */
  server?: string | undefined;
}

/** Where `runInit` writes and asks; `ask` is null when there is no one to ask (not a terminal). */
export interface InitIo {
  stdout(text: string): void;
  stderr(text: string): void;
  ask: ((question: string, fallback: string) => Promise<string>) | null;
}

const DEFAULT_SERVER = 'http://localhost:8080';

/**
 * `nestor init <name>`: writes `<out or ./<name>>/component.yaml`, a commented component that
 * validates as written. Returns 0, or 2 for a bad name or an existing file (never overwritten).
 */
export async function runInit(name: string, flags: InitFlags, io: InitIo): Promise<number> {
  const problem = nameProblem(name);
  if (problem) {
    io.stderr(`nestor: "${name}" cannot be a component name: ${problem.message} (${problem.code})\n`);
    return 2;
  }
  const provider = await value(flags.provider, 'provider (aws, gcp, azure, kubernetes, ...)', 'aws', io);
  const category = await value(flags.category, 'category (database, network, cache, ...)', 'general', io);
  const resourceType = await value(
    flags.resourceType,
    'resource type (the engine resource it creates)',
    `${provider}_${name.replace(/-/g, '_')}`,
    io,
  );
  const dir = resolve(flags.out ?? name);
  const file = join(dir, 'component.yaml');
  const text = template({ name, provider, category, resourceType, server: flags.server ?? DEFAULT_SERVER });
  try {
    mkdirSync(dir, { recursive: true });
    // `wx`: never replace an author's file, even one created since we looked.
    writeFileSync(file, text, { flag: 'wx' });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    io.stderr(
      code === 'EEXIST'
        ? `nestor: ${file} already exists; it was left as it is (choose another --out)\n`
        : `nestor: cannot write ${file}: ${code ?? (err as Error).message}\n`,
    );
    return 2;
  }
  io.stdout(`wrote ${file}\ncheck it with: nestor validate ${file}\n`);
  return 0;
}

async function value(given: string | undefined, question: string, fallback: string, io: InitIo): Promise<string> {
  if (given !== undefined) return given;
  if (!io.ask) return fallback;
  const answer = (await io.ask(question, fallback)).trim();
  return answer === '' ? fallback : answer;
}

/** YAML double-quoted scalar: the answer is written as typed, whatever it contains. */
function q(s: string): string {
  return JSON.stringify(s);
}

function template(v: {
  name: string;
  provider: string;
  category: string;
  resourceType: string;
  server: string;
}): string {
  return `# yaml-language-server: $schema=${v.server.replace(/\/+$/, '')}/v1/schemas/component.json
# A Nestor component: one immutable version of a piece of infrastructure. Every key is described in
# the schema above (your editor completes them) and in docs/validation.md. Check the file with
# \`nestor validate component.yaml\`; publish it by pushing it to a git source or POST /v1/components.

# Name: lowercase letters, digits and "-", at most 63 characters. Never changes.
name: ${v.name}
# Semantic version without "v". Bump it for every change: major for breaking ones
# (an input added or removed, an output removed), minor for additions, patch for the rest.
version: 0.1.0
description: ${q(`The ${v.name} component.`)}
# Provider and resource type are fixed for ever once published; category may change.
provider: ${q(v.provider)}
category: ${q(v.category)}
resource_type: ${q(v.resourceType)}
# Registered engines that can deploy it (a fresh server knows terraform, pulumi and crossplane).
deployment_engines: [terraform]
# Other components this one needs, each with a semver range.
dependencies: []
#  - name: aws-vpc
#    version_range: ^1.0.0
# Inputs a deployment must provide. Types: string, number, integer, boolean, list, map, object, secret.
required_inputs: []
#  - name: instance_class
#    type: string
#    description: Instance size.
# Inputs with a default (and optionally an enum).
optional_inputs: []
#  - name: storage_gb
#    type: integer
#    default: 20
# Values the component exposes once deployed; mark secrets sensitive.
outputs: []
#  - name: endpoint
#    type: string
# alpha, beta or stable; community or supported. Both may change after publication.
maturity: alpha
support_level: community
# Free-form labels for filtering (team=data); they may change after publication.
labels: {}
`;
}

/** `nestor init <name>`. */
export function registerInitCommand(program: Command): void {
  program
    .command('init')
    .description('write a commented component.yaml to start a new component from')
    .argument('<name>', 'component name (lowercase letters, digits and "-")')
    .option('--out <dir>', 'folder to write component.yaml into (default: ./<name>)')
    .option('--provider <provider>', 'provider, e.g. aws, gcp, azure, kubernetes (default aws)')
    .option('--category <category>', 'category, e.g. database, network (default general)')
    .option('--resource-type <type>', 'resource type, e.g. aws_db_instance (default <provider>_<name>)')
    .option('--server <url>', `orchestrator the $schema line points at (default ${DEFAULT_SERVER})`)
    .addHelpText(
      'after',
      `
On a terminal, values not given as flags are asked for (Enter keeps the default); otherwise (CI,
a pipe) nothing is asked and the defaults are used. An existing component.yaml is never overwritten.

Exit codes: 0 written; 2 usage errors (a bad name, an unknown flag) or the file exists or cannot be written.`,
    )
    .action(async (name: string, flags: InitFlags) => {
      const interactive = process.stdin.isTTY === true && process.stdout.isTTY === true;
      const rl = interactive ? createInterface({ input: process.stdin, output: process.stdout }) : null;
      try {
        process.exitCode = await runInit(name, flags, {
          stdout: (t) => process.stdout.write(t),
          stderr: (t) => process.stderr.write(t),
          ask: rl ? (question, fallback) => rl.question(`${question} [${fallback}]: `) : null,
        });
      } finally {
        rl?.close();
      }
    });
}
