import { type ChildProcess, spawn as nodeSpawn, type SpawnOptions } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { create, type NestorError } from '@nestor/sdk';
import { ensureDir } from '../fs-utils.js';
import type { Logger } from '../observability/logging/logger.js';

/** One entry of `git ls-tree -r -l` at a commit. */
export interface TreeEntry {
  path: string;
  /** `100644`, `100755`, `120000` (symlink), `160000` (submodule). */
  mode: string;
  type: 'blob' | 'tree' | 'commit';
  oid: string;
  /** Blob size in bytes; null for submodules. */
  size: number | null;
}

/** One path that differs between two commits (`git diff --name-status --no-renames`). */
export interface FileChange {
  /** A added, M modified, D deleted, T type changed (e.g. file became a symlink). */
  status: 'A' | 'M' | 'D' | 'T';
  path: string;
}

/**
 * Starts a child process; `node:child_process.spawn` in production. Injected so that tests can see
 * the exact argv and environment every git child receives.
 */
export type SpawnFn = (command: string, args: string[], options: SpawnOptions) => ChildProcess;

export interface GitClientOptions {
  /** Source name, for logs and errors. */
  name: string;
  /** https, http, ssh, scp-like (`git@host:org/repo.git`) or file URL. */
  url: string;
  branch: string;
  /** Folder of the local bare clone (created on first fetch). */
  dir: string;
  /** https token, sent as an HTTP header through the environment (never on the command line). */
  token?: string | null;
  /** Private key for ssh URLs. */
  sshKeyPath?: string | null;
  /** Per-command time limit; network commands get it, local ones a tenth (at least 10 s). */
  timeoutMs?: number;
  logger: Logger;
  spawn?: SpawnFn;
}

const COMPONENT = 'git';
const DEFAULT_TIMEOUT_MS = 120_000;
const MAX_OUTPUT = 512 * 1024 * 1024;
const URL_SHAPE = /^(https?|ssh|file):\/\/|^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:[^/]/;
const BRANCH_SHAPE = /^(?!-)(?!.*\.\.)(?!.*\/\/)(?!.*\.lock$)[A-Za-z0-9._/-]+(?<!\/)$/;

/**
 * Removes credentials from a repository URL: `https://user:token@host/x` → `https://host/x`.
 * scp-like ssh URLs keep their user (`git@host:x`), which is not a secret.
 */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@]*@/i, '$1');
}

/** What git is given for a source: the URL it may see on its command line, and the secret header. */
export interface GitCredentials {
  /** The URL without user info: the only form that reaches argv. */
  url: string;
  /** `Authorization` header value for http(s), passed as `http.extraHeader` through the environment. */
  authorization: string | null;
}

/**
 * Splits a source URL and its token into what may appear on a command line (`ps` shows every
 * process's argv to every local user) and what travels in the environment. A token from
 * `token_env` wins; otherwise user info written into an http(s) URL becomes Basic auth, so that
 * even a URL that bypassed config checks never puts a password into argv. ssh URLs keep their
 * user (`git@`), which is not a secret; an ssh password is dropped (keys only).
 */
export function gitCredentials(url: string, token: string | null): GitCredentials {
  const match = /^([a-z][a-z0-9+.-]*:\/\/)([^/@]*)@/i.exec(url);
  if (!match) return { url, authorization: token ? basicAuth('x-access-token', token) : null };
  const scheme = (match[1] ?? '').toLowerCase();
  const userinfo = match[2] ?? '';
  const http = scheme === 'http://' || scheme === 'https://';
  if (!http) {
    const user = userinfo.split(':')[0] ?? '';
    const rest = url.slice(match[0].length);
    return {
      url: user ? `${match[1]}${user}@${rest}` : `${match[1]}${rest}`,
      authorization: null,
    };
  }
  const publicUrl = redactUrl(url);
  if (token) return { url: publicUrl, authorization: basicAuth('x-access-token', token) };
  const colon = userinfo.indexOf(':');
  const user = safeDecode(colon < 0 ? userinfo : userinfo.slice(0, colon));
  const password = colon < 0 ? '' : safeDecode(userinfo.slice(colon + 1));
  // A lone user name in an https URL is how GitHub and GitLab tokens are often written.
  return { url: publicUrl, authorization: password ? basicAuth(user, password) : basicAuth('x-access-token', user) };
}

function basicAuth(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** Whether a URL is one the client accepts (no `ext::` or other command-running transports). */
export function isSupportedUrl(url: string): boolean {
  return URL_SHAPE.test(url) && !url.startsWith('-');
}

/** Whether a branch name is safe to put into a refspec. */
export function isSupportedBranch(branch: string): boolean {
  return BRANCH_SHAPE.test(branch);
}

/**
 * The git CLI through `spawn` (never a shell). Keeps one bare clone per source under the data
 * folder: the first fetch is shallow (depth 1), later ones fetch only what is new, so an
 * incremental sync can diff the previous commit against the new one. Credentials travel in the
 * child's environment only, and every message that leaves this class has them removed.
 */
export class GitClient {
  readonly name: string;
  readonly branch: string;
  /** The URL without credentials: what logs, errors, statuses and `git_repository` show. */
  readonly publicUrl: string;
  private readonly url: string;
  /** The URL as git sees it on its command line: never with a password. */
  private readonly argvUrl: string;
  private readonly authorization: string | null;
  private readonly dir: string;
  private readonly token: string | null;
  private readonly sshKeyPath: string | null;
  private readonly timeoutMs: number;
  private readonly logger: Logger;
  private readonly spawn: SpawnFn;
  private inflight: Promise<string> | null = null;
  /** Set once the branch was fetched into this clone, so later fetches skip the check. */
  private fetchedBefore = false;

  constructor(opts: GitClientOptions) {
    this.name = opts.name;
    this.url = opts.url;
    this.branch = opts.branch;
    this.dir = opts.dir;
    this.token = opts.token ?? null;
    this.sshKeyPath = opts.sshKeyPath ?? null;
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.logger = opts.logger;
    this.spawn = opts.spawn ?? nodeSpawn;
    this.publicUrl = redactUrl(opts.url);
    const credentials = gitCredentials(opts.url, this.token);
    this.argvUrl = credentials.url;
    this.authorization = credentials.authorization;
  }

  private get remoteRef(): string {
    return `refs/remotes/origin/${this.branch}`;
  }

  /**
   * Brings the local clone up to date with the branch and returns its head commit. Concurrent
   * calls share one fetch. Throws `git_failure` (unreachable remote, unknown branch, auth) or
   * `timeout`, with credentials removed from the message.
   */
  fetch(): Promise<string> {
    if (!this.inflight) {
      this.inflight = this.doFetch().finally(() => {
        this.inflight = null;
      });
    }
    return this.inflight;
  }

  private async doFetch(): Promise<string> {
    if (!isSupportedUrl(this.url)) {
      throw this.failure('Fetch', `unsupported repository URL ${this.publicUrl}: use https, ssh or file`);
    }
    if (!isSupportedBranch(this.branch)) {
      throw this.failure('Fetch', `invalid branch name "${this.branch}"`);
    }
    if (!existsSync(join(this.dir, 'HEAD'))) {
      ensureDir(this.dir);
      await this.git(['init', '--bare', '--quiet', this.dir], 'Init', { cwd: false });
    }
    const first = !this.fetchedBefore && !(await this.hasRef(this.remoteRef));
    const started = Date.now();
    try {
      await this.git(
        [
          'fetch',
          '--quiet',
          '--no-tags',
          '--no-write-fetch-head',
          ...(first ? ['--depth=1'] : []),
          '--',
          this.argvUrl,
          `+refs/heads/${this.branch}:${this.remoteRef}`,
        ],
        'Fetch',
        { network: true },
      );
    } catch (err) {
      const e = err as NestorError;
      if (/couldn't find remote ref/i.test(e.message)) {
        throw this.failure('Fetch', `branch "${this.branch}" does not exist in ${this.publicUrl}`);
      }
      throw err;
    }
    const head = (await this.git(['rev-parse', '--verify', `${this.remoteRef}^{commit}`], 'RevParse')).trim();
    this.fetchedBefore = true;
    this.logger.debug({ source: this.name, commit: head, shallow: first, ms: Date.now() - started }, 'git fetch done');
    return head;
  }

  /**
   * Every blob, symlink and submodule at `commit`, recursively, with sizes; only `paths` (exact
   * paths) when given, which keeps an incremental sync of a large repository cheap.
   */
  async listTree(commit: string, paths?: string[]): Promise<TreeEntry[]> {
    const args = ['ls-tree', '-r', '-z', '-l', '--full-tree', commit];
    if (paths) {
      if (paths.length === 0) return [];
      args.unshift('--literal-pathspecs');
      args.push('--', ...paths);
    }
    const out = await this.git(args, 'ListTree');
    const entries: TreeEntry[] = [];
    for (const record of out.split('\0')) {
      if (!record) continue;
      const tab = record.indexOf('\t');
      const [mode, type, oid, size] = record.slice(0, tab).split(/\s+/);
      if (!mode || !oid || (type !== 'blob' && type !== 'tree' && type !== 'commit')) continue;
      entries.push({
        path: record.slice(tab + 1),
        mode,
        type,
        oid,
        size: size === undefined || size === '-' ? null : Number(size),
      });
    }
    return entries;
  }

  /** Paths that differ between two commits; renames appear as a delete plus an add. */
  async diff(from: string, to: string): Promise<FileChange[]> {
    const out = await this.git(['diff', '--name-status', '-z', '--no-renames', from, to], 'Diff');
    const parts = out.split('\0');
    const changes: FileChange[] = [];
    for (let i = 0; i + 1 < parts.length; i += 2) {
      const status = parts[i]?.charAt(0);
      const path = parts[i + 1];
      if (!path) continue;
      if (status === 'A' || status === 'M' || status === 'D' || status === 'T') changes.push({ status, path });
    }
    return changes;
  }

  /**
   * Whether `ancestor` is reachable from `descendant`: false on a force-push that rewrote history,
   * and when the clone does not hold `ancestor` at all.
   */
  async isAncestor(ancestor: string, descendant: string): Promise<boolean> {
    if (!/^[0-9a-f]{40,64}$/.test(ancestor)) return false;
    try {
      await this.git(['merge-base', '--is-ancestor', ancestor, descendant], 'IsAncestor');
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Reads blobs by id with one `git cat-file --batch` process. Missing ids are absent from the map.
   */
  async readBlobs(oids: string[]): Promise<Map<string, Buffer>> {
    const found = new Map<string, Buffer>();
    const unique = [...new Set(oids)];
    if (unique.length === 0) return found;
    const out = await this.spawnCollect(['cat-file', '--batch'], `${unique.join('\n')}\n`, 'ReadBlobs');
    let at = 0;
    while (at < out.length) {
      const eol = out.indexOf(10, at);
      if (eol < 0) break;
      const header = out.subarray(at, eol).toString('utf8');
      at = eol + 1;
      const [oid, type, size] = header.split(' ');
      if (!oid || type === 'missing' || size === undefined) continue;
      const length = Number(size);
      found.set(oid, out.subarray(at, at + length));
      at += length + 1;
    }
    return found;
  }

  private async hasRef(ref: string): Promise<boolean> {
    try {
      await this.git(['rev-parse', '--verify', '--quiet', ref], 'HasRef');
      return true;
    } catch {
      return false;
    }
  }

  /** Environment of every git child: no prompts, no user config surprises, credentials if any. */
  private env(): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      LC_ALL: 'C',
      GIT_TERMINAL_PROMPT: '0',
      GIT_ASKPASS: 'echo',
      SSH_ASKPASS: 'echo',
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_CONFIG_GLOBAL: '/dev/null',
    };
    let count = 0;
    const setConfig = (key: string, value: string) => {
      env[`GIT_CONFIG_KEY_${count}`] = key;
      env[`GIT_CONFIG_VALUE_${count}`] = value;
      count += 1;
    };
    if (this.authorization) setConfig('http.extraHeader', `Authorization: ${this.authorization}`);
    setConfig('core.askPass', 'echo');
    setConfig('gc.auto', '0');
    setConfig('maintenance.auto', 'false');
    env.GIT_CONFIG_COUNT = String(count);
    const ssh = ['ssh', '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=accept-new'];
    if (this.sshKeyPath) ssh.push('-o', 'IdentitiesOnly=yes', '-i', shellQuote(this.sshKeyPath));
    env.GIT_SSH_COMMAND = ssh.join(' ');
    return env;
  }

  private async git(
    args: string[],
    operation: string,
    opts: { network?: boolean; cwd?: boolean } = {},
  ): Promise<string> {
    const full = opts.cwd === false ? args : ['--git-dir', this.dir, ...args];
    const timeout = opts.network ? this.timeoutMs : Math.max(10_000, Math.floor(this.timeoutMs / 10));
    return (await this.run(full, null, operation, timeout)).toString('utf8');
  }

  private spawnCollect(args: string[], input: string, operation: string): Promise<Buffer> {
    const timeout = Math.max(10_000, Math.floor(this.timeoutMs / 2));
    return this.run(['--git-dir', this.dir, ...args], input, operation, timeout);
  }

  /** One git child (never a shell): output collected up to MAX_OUTPUT, killed at the time limit. */
  private run(args: string[], input: string | null, operation: string, timeout: number): Promise<Buffer> {
    const command = args[args[0] === '--git-dir' ? 2 : 0];
    return new Promise((resolve, reject) => {
      let child: ChildProcess;
      try {
        child = this.spawn('git', args, { env: this.env(), stdio: ['pipe', 'pipe', 'pipe'] });
      } catch (err) {
        reject(this.failure(operation, `git ${command} failed: ${(err as Error).message}`));
        return;
      }
      const chunks: Buffer[] = [];
      const errChunks: Buffer[] = [];
      let size = 0;
      let timedOut = false;
      let overflow = false;
      const timer = setTimeout(() => {
        timedOut = true;
        child.kill('SIGKILL');
      }, timeout);
      child.stdout?.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_OUTPUT) {
          if (!overflow) child.kill('SIGKILL');
          overflow = true;
          return;
        }
        chunks.push(c);
      });
      child.stderr?.on('data', (c: Buffer) => {
        if (errChunks.length < 64) errChunks.push(c);
      });
      child.stdin?.on('error', () => undefined);
      child.on('error', (err) => {
        clearTimeout(timer);
        reject(this.failure(operation, `git ${command} failed: ${err.message}`));
      });
      child.on('close', (code) => {
        clearTimeout(timer);
        if (timedOut) reject(this.timedOut(operation, timeout));
        else if (overflow) reject(this.failure(operation, `git ${command} printed more than ${MAX_OUTPUT} bytes`));
        else if (code !== 0) {
          const stderr = firstLines(Buffer.concat(errChunks).toString('utf8'));
          reject(this.failure(operation, `git ${command} failed: ${stderr || `exit code ${code}`}`));
        } else resolve(Buffer.concat(chunks));
      });
      child.stdin?.end(input ?? undefined);
    });
  }

  /** Strips the URL's credentials and the token from anything git printed. */
  private redact(text: string): string {
    let out = text.split(this.url).join(this.publicUrl);
    if (this.token) out = out.split(this.token).join('[redacted]');
    if (this.authorization) out = out.split(this.authorization).join('[redacted]');
    return out.replace(/([a-z][a-z0-9+.-]*:\/\/)[^/@\s]*@/gi, '$1');
  }

  private failure(operation: string, message: string): NestorError {
    return create('git_failure')
      .component(COMPONENT)
      .operation(operation)
      .message(`source ${this.name}: ${this.redact(message)}`)
      .detail('source', this.name)
      .detail('url', this.publicUrl)
      .build();
  }

  private timedOut(operation: string, ms: number): NestorError {
    return create('timeout')
      .component(COMPONENT)
      .operation(operation)
      .message(`source ${this.name}: git ${operation.toLowerCase()} of ${this.publicUrl} timed out after ${ms} ms`)
      .detail('source', this.name)
      .build();
  }
}

function firstLines(text: string): string {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .slice(0, 3)
    .join('; ');
}

function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}
