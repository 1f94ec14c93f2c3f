import type { Migration } from './migration.js';

/**
 * One search index instead of two. Every FTS5 table costs several b-tree pages (content, docsize,
 * segment, structure record) on each commit, and the two tables held the same document whenever
 * the latest version is not a prerelease, which is nearly always. `search` holds every version that
 * is latest by either notion (rowid = components.id); a search joins `components` to keep the
 * notion it asked for. Without prereleases both notions pick the same rows, so ranking is as before.
 */
export const oneSearchTable: Migration = {
  id: 2,
  name: 'one-search-table',
  sql: `
CREATE VIRTUAL TABLE search USING fts5 (
  name, description, labels,
  tokenize = 'unicode61 remove_diacritics 2'
);
INSERT INTO search (search, rank) VALUES ('rank', 'bm25(10.0, 1.0, 2.0)');
INSERT INTO search (rowid, name, description, labels)
  SELECT rowid, name, description, labels FROM search_any
  UNION
  SELECT rowid, name, description, labels FROM search_default;
DROP TABLE search_default;
DROP TABLE search_any;
`,
};
