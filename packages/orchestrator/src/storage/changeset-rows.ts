import type { ChangesetRecord } from './interfaces.js';

/** A changeset record as the SQL stores keep it: the members as one JSON column. */
export interface ChangesetRow {
  id: string;
  time: string;
  actor: string;
  message: string | null;
  revision: number;
  items: string;
}

export function changesetRow(r: ChangesetRecord): ChangesetRow {
  return {
    id: r.id,
    time: r.time,
    actor: r.actor,
    message: r.message,
    revision: r.revision,
    items: JSON.stringify(r.items),
  };
}

export function fromChangesetRow(row: ChangesetRow): ChangesetRecord {
  return {
    id: row.id,
    time: row.time,
    actor: row.actor,
    message: row.message,
    revision: Number(row.revision),
    items: JSON.parse(row.items) as ChangesetRecord['items'],
  };
}
