import { createHash } from 'node:crypto';
import { type Dirent, promises as fs } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { create, type NestorError } from '@nestor/sdk';
import picomatch from 'picomatch';
import type { GitClient } from '../git/client.js';
import { MAX_FILE_BYTES } from './parser.js';

/** A candidate file of a source at one revision. */
export interface SourceFile {
  /** `/`-separated path under the source root. */
  path: string;
  /** Only regular files are read; symlinks and submodules are reported, never followed. */
  kind: 'file' | 'symlink' | 'other';
  /** Size in bytes when known. */
  size: number | null;
  /** Where the content is: a git blob id, or the path on disk. */
  ref: string;
  /** Names the content (git blob id, or sha256 of a folder's file) when known: equal ids, equal bytes. */
  contentId?: string;
}

/**
 * Where a syncer reads files: a git branch or a local folder. A revision names one snapshot: a
 * commit id, or a content hash for a folder.
 */
export interface SourceReader {
  readonly type: 'git' | 'directory';
  /** Repository URL without credentials, or the folder. Goes into `git_repository`. */
  readonly url: string;
  readonly branch: string | null;
  /** Fetches (git) or scans (folder) and returns the current revision. */
  head(): Promise<string>;
  /** The commit to record on components (`git_commit`); null for a folder. */
  commitOf(revision: string): string | null;
  /** Every file at the revision whose path matches `matches` (and is among `only`, when given). */
  list(revision: string, matches: (path: string) => boolean, only?: Set<string>): Promise<SourceFile[]>;
  /** Contents of regular files, by path. Files that vanished are absent. */
  read(files: SourceFile[]): Promise<Map<string, Buffer>>;
  /**
   * Paths that differ between two revisions, or null when only a full resync is correct (the old
   * revision is gone or is no longer an ancestor, as after a force-push).
   */
  changes(from: string, to: string): Promise<Set<string> | null>;
}

/** How much one sync of a source may take on: matching files and their total size. */
export interface SyncLimits {
  maxFiles: number;
  maxBytes: number;
}

/**
 * The error of a sync whose source holds more than its limits allow (`payload_too_large`): the
 * sync stops before anything is written. `key` is the config key that raises the limit.
 */
export function syncLimitExceeded(source: string, what: 'files' | 'bytes', actual: string, limit: number): NestorError {
  const key = what === 'files' ? 'max_files' : 'max_bytes';
  const noun = what === 'files' ? 'matching files' : 'bytes of matching files';
  return create('payload_too_large')
    .component('sync')
    .operation('SyncSource')
    .message(
      `source ${source}: ${actual} ${noun}, more than the limit of ${limit}; nothing was synced (raise sources[].${key} if this is expected)`,
    )
    .detail('source', source)
    .detail('limit', key)
    .detail('max', limit)
    .build();
}

/** Matchers for a source's globs: `matches` selects files, `mentions` also sees dot and `..` paths. */
export function globMatchers(paths: string[]): { matches: (p: string) => boolean; mentions: (p: string) => boolean } {
  const matches = picomatch(paths);
  const dotted = picomatch(paths, { dot: true });
  const base = picomatch(paths, { dot: true, basename: true });
  return { matches, mentions: (p: string) => dotted(p) || base(p.split('/').pop() ?? p) };
}

const NARROW_LIST_MAX = 500;

/** A git branch read through the local clone. */
export class GitSourceReader implements SourceReader {
  readonly type = 'git' as const;
  readonly url: string;
  readonly branch: string;
  private readonly git: GitClient;

  constructor(opts: { git: GitClient }) {
    this.git = opts.git;
    this.url = opts.git.publicUrl;
    this.branch = opts.git.branch;
  }

  head(): Promise<string> {
    return this.git.fetch();
  }

  commitOf(revision: string): string {
    return revision;
  }

  async list(revision: string, matches: (path: string) => boolean, only?: Set<string>): Promise<SourceFile[]> {
    // Naming a few paths is cheaper than listing a large tree; many paths would overflow argv.
    const narrow = only && only.size <= NARROW_LIST_MAX ? [...only] : undefined;
    const entries = (await this.git.listTree(revision, narrow)).filter((e) => !only || only.has(e.path));
    const files: SourceFile[] = [];
    for (const e of entries) {
      if (!matches(e.path)) continue;
      const kind = e.mode === '120000' ? 'symlink' : e.type === 'blob' ? 'file' : 'other';
      files.push({ path: e.path, kind, size: e.size, ref: e.oid, contentId: e.oid });
    }
    return files;
  }

  async read(files: SourceFile[]): Promise<Map<string, Buffer>> {
    const blobs = await this.git.readBlobs(files.filter((f) => f.kind === 'file').map((f) => f.ref));
    const out = new Map<string, Buffer>();
    for (const f of files) {
      const content = blobs.get(f.ref);
      if (content) out.set(f.path, content);
    }
    return out;
  }

  async changes(from: string, to: string): Promise<Set<string> | null> {
    if (from === to) return new Set();
    if (!(await this.git.isAncestor(from, to))) return null;
    return new Set((await this.git.diff(from, to)).map((c) => c.path));
  }
}

const SKIPPED_DIRS = new Set(['.git', 'node_modules']);

interface Snapshot {
  revision: string;
  files: SourceFile[];
  contents: Map<string, Buffer>;
}

/**
 * A local folder (development, `examples/`). Every scan reads the matching files and hashes them,
 * so the revision changes exactly when the content does. Symlinks are reported, never followed.
 */
export class DirectorySourceReader implements SourceReader {
  readonly type = 'directory' as const;
  readonly url: string;
  readonly branch = null;
  private readonly root: string;
  private readonly matches: (path: string) => boolean;
  private readonly maxBytes: number;
  private readonly name: string;
  private readonly limits: SyncLimits | null;
  private snapshot: Snapshot | null = null;

  /**
   * `limits` bound the scan itself, before any file is read: a folder is read whole into memory
   * to hash it, so checking after the scan would be too late.
   */
  constructor(opts: { name?: string; root: string; paths: string[]; maxFileBytes?: number; limits?: SyncLimits }) {
    this.root = opts.root;
    this.url = opts.root;
    this.name = opts.name ?? opts.root;
    this.matches = globMatchers(opts.paths).mentions;
    this.maxBytes = opts.maxFileBytes ?? MAX_FILE_BYTES;
    this.limits = opts.limits ?? null;
  }

  async head(): Promise<string> {
    const files: SourceFile[] = [];
    const contents = new Map<string, Buffer>();
    await this.walk(this.root, files);
    if (this.limits) {
      const bytes = files.reduce((sum, f) => sum + (f.kind === 'file' ? (f.size ?? 0) : 0), 0);
      if (bytes > this.limits.maxBytes) {
        throw syncLimitExceeded(this.name, 'bytes', String(bytes), this.limits.maxBytes);
      }
    }
    files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    const hash = createHash('sha256');
    for (const f of files) {
      hash.update(`${f.path}\0${f.kind}\0${f.size ?? -1}\0`);
      if (f.kind !== 'file' || f.size === null || f.size > this.maxBytes) continue;
      try {
        const content = await fs.readFile(f.ref);
        contents.set(f.path, content);
        const digest = createHash('sha256').update(content).digest();
        f.contentId = `sha256:${digest.toString('hex')}`;
        hash.update(digest);
      } catch {
        hash.update('unreadable');
      }
    }
    const revision = `dir:${hash.digest('hex').slice(0, 40)}`;
    this.snapshot = { revision, files, contents };
    return revision;
  }

  commitOf(): null {
    return null;
  }

  async list(revision: string, matches: (path: string) => boolean, only?: Set<string>): Promise<SourceFile[]> {
    const snap = this.snapshot?.revision === revision ? this.snapshot : null;
    return (snap?.files ?? []).filter((f) => matches(f.path) && (!only || only.has(f.path)));
  }

  async read(files: SourceFile[]): Promise<Map<string, Buffer>> {
    const out = new Map<string, Buffer>();
    for (const f of files) {
      const content = this.snapshot?.contents.get(f.path);
      if (content) out.set(f.path, content);
    }
    return out;
  }

  async changes(): Promise<null> {
    // A folder has no history to diff; its files are few and re-parsing them is cheap.
    return null;
  }

  private async walk(dir: string, out: SourceFile[]): Promise<void> {
    let entries: Dirent[];
    try {
      entries = await fs.readdir(dir, { withFileTypes: true });
    } catch (err) {
      if (dir === this.root) throw err;
      return;
    }
    for (const entry of entries) {
      const full = join(dir, entry.name);
      const path = relative(this.root, full).split(sep).join('/');
      if (entry.isDirectory()) {
        if (!SKIPPED_DIRS.has(entry.name)) await this.walk(full, out);
        continue;
      }
      if (!this.matches(path)) continue;
      // Stop walking at once: a folder of millions of files must not be listed into memory first.
      if (this.limits && out.length >= this.limits.maxFiles) {
        throw syncLimitExceeded(this.name, 'files', `more than ${this.limits.maxFiles}`, this.limits.maxFiles);
      }
      if (entry.isSymbolicLink()) out.push({ path, kind: 'symlink', size: null, ref: full });
      else if (entry.isFile()) {
        const stat = await fs.lstat(full).catch(() => null);
        out.push({ path, kind: 'file', size: stat?.size ?? null, ref: full });
      } else out.push({ path, kind: 'other', size: null, ref: full });
    }
  }
}
