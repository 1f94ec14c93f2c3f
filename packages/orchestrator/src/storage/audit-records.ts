import { randomFillSync } from 'node:crypto';
import type { AuditEntry, AuditQuery } from './interfaces.js';

/**
 * Random bytes for audit ids, drawn 4 KiB at a time: `randomBytes(4)` asks the system for entropy
 * on every call (about 6 µs, on every create), a pool refilled every 1 024 ids does not.
 */
const pool = Buffer.alloc(4096);
let offset = pool.length;
/** The millisecond and counter of the last id made here. */
let lastMs = -1;
let lastCounter = 0;

/**
 * A new audit id: sortable by time (15 digits of the entry's epoch ms), then 8 hex characters —
 * random for the first id of a millisecond (top bit clear), counted up from it for the next ids of
 * the same millisecond, so the ids one process makes within a millisecond sort in the order it made
 * them (31 bits of headroom: a millisecond never holds that many).
 */
export function auditId(time: Date): string {
  const ms = time.getTime();
  if (ms === lastMs) {
    lastCounter++;
  } else {
    if (offset + 4 > pool.length) {
      randomFillSync(pool);
      offset = 0;
    }
    lastCounter = pool.readUInt32BE(offset) >>> 1;
    offset += 4;
    lastMs = ms;
  }
  return `${String(ms).padStart(15, '0')}-${lastCounter.toString(16).padStart(8, '0')}`;
}

/** Whether an entry passes the query's filters (cursor excluded). */
export function auditMatches(e: AuditEntry, q: AuditQuery): boolean {
  if (q.actor !== undefined && e.actor !== q.actor) return false;
  if (q.action !== undefined && e.action !== q.action) return false;
  if (q.subject !== undefined && !subjectMatches(e.subject, q.subject)) return false;
  if (q.since !== undefined && e.time < q.since) return false;
  if (q.until !== undefined && e.time > q.until) return false;
  return true;
}

function subjectMatches(subject: string, wanted: string): boolean {
  return subject === wanted || (!wanted.includes('@') && subject.startsWith(`${wanted}@`));
}

/** A SQL row: details as JSON text. */
export interface AuditRow {
  id: string;
  time: string;
  actor: string;
  action: string;
  subject: string;
  request_id: string | null;
  ip: string | null;
  outcome: string;
  details: string;
}

export function auditRow(e: AuditEntry): AuditRow {
  return { ...e, details: JSON.stringify(e.details) };
}

export function fromAuditRow(r: AuditRow): AuditEntry {
  return {
    id: r.id,
    time: r.time,
    actor: r.actor,
    action: r.action,
    subject: r.subject,
    request_id: r.request_id,
    ip: r.ip,
    outcome: r.outcome as AuditEntry['outcome'],
    details: JSON.parse(r.details) as Record<string, unknown>,
  };
}

/**
 * The WHERE clause of an audit query (cursor and filters) for SQL stores; `placeholder(n)` writes
 * the n-th parameter (`?` or `$n`).
 */
export function auditWhere(q: AuditQuery, placeholder: (n: number) => string): { where: string; params: string[] } {
  const clauses: string[] = [];
  const params: string[] = [];
  const add = (sql: (p: string) => string, value: string) => {
    params.push(value);
    clauses.push(sql(placeholder(params.length)));
  };
  if (q.cursor) add((p) => `id < ${p}`, q.cursor);
  if (q.actor !== undefined) add((p) => `actor = ${p}`, q.actor);
  if (q.action !== undefined) add((p) => `action = ${p}`, q.action);
  if (q.subject !== undefined) {
    if (q.subject.includes('@')) add((p) => `subject = ${p}`, q.subject);
    else {
      // A bare name: the name itself (an id) or any of its versions, compared without LIKE wildcards.
      // Each parameter appears once, so positional `?` placeholders work too.
      params.push(q.subject, `${q.subject}@`, `${q.subject}@`);
      const [a, b, c] = [params.length - 2, params.length - 1, params.length].map(placeholder);
      clauses.push(`(subject = ${a} OR substr(subject, 1, length(${b})) = ${c})`);
    }
  }
  if (q.since !== undefined) add((p) => `time >= ${p}`, q.since);
  if (q.until !== undefined) add((p) => `time <= ${p}`, q.until);
  return { where: clauses.length ? ` WHERE ${clauses.join(' AND ')}` : '', params };
}

/** A page from up to `limit + 1` rows, newest first. */
export function auditPage(rows: AuditEntry[], limit: number): { items: AuditEntry[]; nextCursor: string | null } {
  const items = rows.slice(0, limit);
  return { items, nextCursor: rows.length > limit ? (items.at(-1)?.id ?? null) : null };
}
