import {
  type ComponentSpec,
  computeDigest,
  NestorError,
  type SourceFileError,
  type ValidationResult,
} from '@nestor/sdk';
import type { AuditEntry, ComponentReader } from '../storage/interfaces.js';
import { fileError } from './file-errors.js';
import type { ParsedComponent } from './parser.js';
import { validationErrors, writeFailure } from './sync-record.js';

/** The changeset write a sync makes: `CatalogManager.createChangeset`. */
export interface ChangesetCreator {
  createChangeset(
    specs: readonly ComponentSpec[],
    opts?: { actor?: string | null; message?: string | null; audit?: (id: string) => AuditEntry },
  ): Promise<{ id: string | null; items: { name: string; version: string; status: 'created' | 'unchanged' }[] }>;
}

/** What publishing one commit's files did. */
export type CommitSetOutcome =
  | { kind: 'written'; id: string | null; members: number; created: number; unchanged: number; held: string[] }
  | {
      kind: 'refused';
      members: number;
      failed: number;
      conflicts: number;
      unchanged: number;
      errors: SourceFileError[];
    }
  | { kind: 'too_large'; members: number; reason: string }
  /** The write failed for a reason other than the files (store down, shutdown): the sync is redone. */
  | { kind: 'incomplete'; members: number; failed: number; errors: SourceFileError[] };

export interface CommitSetOptions {
  source: string;
  /** The revision synced, for the changeset's message. */
  head: string;
  writer: ChangesetCreator;
  catalog: Pick<ComponentReader, 'getComponent'>;
  audit: (id: string, members: number) => AuditEntry;
  /** Files of the set that did not parse (their errors are reported already): the set is refused. */
  unparsed: string[];
}

/**
 * Publishes the components of one commit's changed files as one changeset: all of them or none.
 * Versions published already with the same content stay out of the set (they are `unchanged`
 * either way, and on DynamoDB they would cost nothing but still count as members); a version
 * published with other content, or defined twice with different content, refuses the set as a
 * failed rule does, and so does a file of the set that did not parse. When the set is refused,
 * every file of it gets a `changeset_refused` error beside its own, so the next sync retries those
 * files together again.
 */
export async function publishCommitSet(items: ParsedComponent[], opts: CommitSetOptions): Promise<CommitSetOutcome> {
  const byId = new Map<string, { digest: string; items: ParsedComponent[] }>();
  const conflicts = new Map<ParsedComponent, SourceFileError>();
  for (const item of items) {
    const id = idOf(item.spec);
    const digest = computeDigest(item.spec);
    const known = byId.get(id);
    if (!known) byId.set(id, { digest, items: [item] });
    else if (known.digest === digest) known.items.push(item);
    else {
      const first = known.items[0]?.path ?? '';
      const message = `${id}: defined again with other content (first in ${first})`;
      conflicts.set(item, fileError(item.path, 'version_conflict', message, item.position));
    }
  }
  let unchanged = 0;
  const held: string[] = [];
  const members: { id: string; items: ParsedComponent[] }[] = [];
  for (const [id, entry] of byId) {
    const first = entry.items[0] as ParsedComponent;
    const stored = await opts.catalog.getComponent(first.spec.name, first.spec.version);
    if (stored && stored.digest === entry.digest && !stored.deleted) {
      unchanged += entry.items.length;
      held.push(id);
    } else if (stored) {
      const message = `${id}: this name and version are already published with other content`;
      for (const item of entry.items)
        conflicts.set(item, fileError(item.path, 'version_conflict', message, item.position));
    } else members.push({ id, items: entry.items });
  }
  const refuse = (own: Map<ParsedComponent, SourceFileError[]>, conflicting: Set<ParsedComponent>) =>
    refused(opts.head, members, own, conflicting, unchanged, opts.unparsed);
  if (opts.unparsed.length > 0) return refuse(new Map(), new Set());
  if (conflicts.size > 0) {
    const own = new Map([...conflicts].map(([item, e]) => [item, [e]]));
    return refuse(own, new Set(conflicts.keys()));
  }
  if (members.length === 0) return { kind: 'written', id: null, members: 0, created: 0, unchanged, held };

  const specs = members.map((m) => (m.items[0] as ParsedComponent).spec);
  try {
    const result = await opts.writer.createChangeset(specs, {
      actor: `source:${opts.source}`,
      message: `sync ${opts.source} ${shortRevision(opts.head)}`,
      audit: (id) => opts.audit(id, specs.length),
    });
    let created = 0;
    for (const [i, status] of result.items.map((it) => it.status).entries()) {
      const count = members[i]?.items.length ?? 0;
      // A duplicate file of a created version is what a second identical create is: unchanged.
      if (status === 'created') {
        created += 1;
        unchanged += count - 1;
      } else unchanged += count;
    }
    held.push(...members.map((m) => m.id));
    return { kind: 'written', id: result.id, members: members.length, created, unchanged, held };
  } catch (err) {
    if (NestorError.hasCode(err, 'changeset_too_large')) {
      return { kind: 'too_large', members: members.length, reason: err.message };
    }
    if (NestorError.hasCode(err, 'validation_failed')) {
      const results = Array.isArray(err.extensions.results) ? (err.extensions.results as ValidationResult[]) : [];
      const own = new Map<ParsedComponent, SourceFileError[]>();
      for (const [i, m] of members.entries()) {
        const r = results[i];
        if (!r || r.valid) continue;
        for (const item of m.items) own.set(item, validationErrors(item, r.errors, err.message));
      }
      // Without per-member results the failure cannot be placed: every member carries it.
      if (own.size === 0)
        for (const m of members) for (const item of m.items) own.set(item, writeFailure(item, err).errors);
      return refuse(own, new Set());
    }
    if (NestorError.hasCode(err, 'version_conflict') || NestorError.hasCode(err, 'invalid_request')) {
      // Another process published a member meanwhile, or the store refused one: placed by name.
      const named = `${String(err.details.name ?? '')}@${String(err.details.version ?? '')}`;
      const culprits = members.filter((m) => m.id === named);
      const own = new Map<ParsedComponent, SourceFileError[]>();
      for (const m of culprits.length > 0 ? culprits : members) {
        for (const item of m.items) own.set(item, writeFailure(item, err).errors);
      }
      const conflicting = NestorError.hasCode(err, 'version_conflict')
        ? new Set(own.keys())
        : new Set<ParsedComponent>();
      return refuse(own, conflicting);
    }
    const errors = members.flatMap((m) => m.items.flatMap((item) => writeFailure(item, err).errors));
    const failed = members.reduce((n, m) => n + m.items.length, 0);
    return { kind: 'incomplete', members: members.length, failed, errors };
  }
}

/** Every file of a refused set: its own errors, and one `changeset_refused` saying why nothing was written. */
function refused(
  head: string,
  members: { id: string; items: ParsedComponent[] }[],
  own: Map<ParsedComponent, SourceFileError[]>,
  conflicting: Set<ParsedComponent>,
  unchanged: number,
  unparsed: string[],
): CommitSetOutcome {
  const files = new Set([...members.flatMap((m) => m.items), ...own.keys()]);
  const failing = new Set([...[...own.keys()].map((item) => item.path), ...unparsed]).size;
  const why = (what: string) =>
    `${what}: not written: ${failing} file(s) changed by ${shortRevision(head)} failed, and a commit's files are published together or not at all`;
  const errors: SourceFileError[] = unparsed.map((path) =>
    fileError(path, 'changeset_refused', why('this file does not parse, so no file of its changeset')),
  );
  let failed = 0;
  for (const item of files) {
    errors.push(...(own.get(item) ?? []));
    errors.push(fileError(item.path, 'changeset_refused', why(idOf(item.spec)), item.position));
    if (!conflicting.has(item)) failed += 1;
  }
  return { kind: 'refused', members: members.length, failed, conflicts: conflicting.size, unchanged, errors };
}

/** A commit's first 12 hex digits; a folder revision (`dir:<hash>`) likewise shortened. */
export function shortRevision(revision: string): string {
  return revision.startsWith('dir:') ? revision.slice(0, 16) : revision.slice(0, 12);
}

function idOf(spec: ComponentSpec): string {
  return `${spec.name}@${spec.version}`;
}
