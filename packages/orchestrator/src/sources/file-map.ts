import type { StateStore } from '../storage/interfaces.js';

/**
 * Which versions each file of a source published: path → `name@version` of every version the
 * source has held from that file (kept as the file's content moves on, so removing a component's
 * folder orphans its older versions too). This is how a sync knows what a vanished file leaves
 * behind: neither the stored versions (a version's `git_path` is where it was first published)
 * nor the source's history (a folder has none) can tell it.
 */
export type FileVersions = Map<string, string[]>;

/** A file map as read back, with the generation it was written under. */
export interface StoredFileMap {
  files: FileVersions;
  generation: Generation;
}

type Generation = 'a' | 'b';

interface Header {
  generation: Generation;
  chunks: number;
}

/**
 * Characters of JSON per state value. A large source's map does not fit one value of every store
 * (a DynamoDB item holds 400 KB), so it is kept in chunks.
 */
const CHUNK_CHARS = 256 * 1024;

/**
 * Keeps a source's file map in the state store, beside (not inside) its sync status, which stays
 * small because every status read loads it. Chunks of a new map go under the other generation
 * first and the header moves last: a sync killed half-way leaves the previous map whole.
 */
export class FileMapStore {
  private readonly state: StateStore;
  private readonly key: string;

  constructor(opts: { state: StateStore; source: string }) {
    this.state = opts.state;
    this.key = `source-files:${opts.source}`;
  }

  /** Whether a map was written, without reading it (a poll that finds nothing new reads no more). */
  async exists(): Promise<boolean> {
    return isHeader(await this.state.getState(this.key));
  }

  /** The map, or null when none was written (a source synced before orphans were tracked). */
  async read(): Promise<StoredFileMap | null> {
    const header = await this.state.getState(this.key);
    if (!isHeader(header)) return null;
    const files: FileVersions = new Map();
    for (let i = 0; i < header.chunks; i++) {
      const chunk = await this.state.getState(this.chunkKey(header.generation, i));
      if (!Array.isArray(chunk)) return null;
      for (const entry of chunk as unknown[]) {
        if (!Array.isArray(entry) || typeof entry[0] !== 'string' || !Array.isArray(entry[1])) return null;
        files.set(
          entry[0],
          (entry[1] as unknown[]).filter((v): v is string => typeof v === 'string'),
        );
      }
    }
    return { files, generation: header.generation };
  }

  /** Writes `files` as the source's map, replacing the one read as `previous`. */
  async write(files: FileVersions, previous: Generation | null): Promise<void> {
    const generation: Generation = previous === 'a' ? 'b' : 'a';
    const chunks: [string, string[]][][] = [[]];
    let size = 0;
    for (const entry of [...files.entries()].sort((x, y) => (x[0] < y[0] ? -1 : 1))) {
      const bytes = JSON.stringify(entry).length + 1;
      if (size + bytes > CHUNK_CHARS && (chunks.at(-1) as unknown[]).length > 0) {
        chunks.push([]);
        size = 0;
      }
      (chunks.at(-1) as [string, string[]][]).push(entry);
      size += bytes;
    }
    for (const [i, chunk] of chunks.entries()) await this.state.putState(this.chunkKey(generation, i), chunk);
    const header: Header = { generation, chunks: chunks.length };
    await this.state.putState(this.key, header);
  }

  private chunkKey(generation: Generation, i: number): string {
    return `${this.key}:${generation}:${i}`;
  }
}

function isHeader(value: unknown): value is Header {
  if (value === null || typeof value !== 'object') return false;
  const v = value as Partial<Header>;
  return (v.generation === 'a' || v.generation === 'b') && typeof v.chunks === 'number' && v.chunks >= 0;
}
