/** One schema change. Ids are applied in increasing order, each exactly once, in its own transaction. */
export interface Migration {
  id: number;
  name: string;
  sql: string;
}
