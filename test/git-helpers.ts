import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { stringify } from 'yaml';

const GIT_ENV = {
  ...process.env,
  GIT_AUTHOR_NAME: 'Test',
  GIT_AUTHOR_EMAIL: 'test@example.com',
  GIT_COMMITTER_NAME: 'Test',
  GIT_COMMITTER_EMAIL: 'test@example.com',
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_CONFIG_NOSYSTEM: '1',
};

/** A real git repository in a temp folder, served to the orchestrator as `file://`. */
export class TempRepo {
  readonly dir: string;
  readonly url: string;

  constructor(branch = 'main') {
    this.dir = mkdtempSync(join(tmpdir(), 'nestor-repo-'));
    this.url = `file://${this.dir}`;
    this.git('init', '--quiet', '--initial-branch', branch);
  }

  git(...args: string[]): string {
    return execFileSync('git', args, { cwd: this.dir, env: GIT_ENV, encoding: 'utf8', maxBuffer: 1 << 30 }).trim();
  }

  write(path: string, content: string | Buffer): this {
    const full = join(this.dir, path);
    mkdirSync(dirname(full), { recursive: true });
    writeFileSync(full, content);
    return this;
  }

  remove(path: string): this {
    unlinkSync(join(this.dir, path));
    return this;
  }

  move(from: string, to: string): this {
    mkdirSync(dirname(join(this.dir, to)), { recursive: true });
    renameSync(join(this.dir, from), join(this.dir, to));
    return this;
  }

  symlink(path: string, target: string): this {
    const full = join(this.dir, path);
    mkdirSync(dirname(full), { recursive: true });
    symlinkSync(target, full);
    return this;
  }

  /** Stages everything and commits; returns the new commit id. */
  commit(message = 'change'): string {
    this.git('add', '--all');
    this.git('commit', '--quiet', '--allow-empty', '-m', message);
    return this.head();
  }

  head(): string {
    return this.git('rev-parse', 'HEAD');
  }

  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export interface YamlComponent {
  name: string;
  version?: string;
  description?: string;
  provider?: string;
  category?: string;
  resource_type?: string;
  dependencies?: { name: string; version_range: string }[];
  [key: string]: unknown;
}

/** A valid component document as YAML. */
export function componentYaml(c: YamlComponent): string {
  return stringify({
    version: '1.0.0',
    description: `The ${c.name} component`,
    provider: 'aws',
    category: 'database',
    resource_type: 'postgresql',
    required_inputs: [{ name: 'instance_class', type: 'string', description: 'Instance size' }],
    outputs: [{ name: 'endpoint', type: 'string', description: 'Host name' }],
    ...c,
  });
}

/** Waits until `check` returns a truthy value (or throws after `ms`). */
export async function eventually<T>(check: () => Promise<T | null | undefined | false>, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown = null;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value) return value;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`condition not met within ${ms} ms${last ? `: ${String(last)}` : ''}`);
}
