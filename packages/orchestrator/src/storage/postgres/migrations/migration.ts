/** One schema change, applied once, in increasing id order, each in its own transaction. */
export interface Migration {
  id: number;
  name: string;
  sql: string;
}
