declare module 'dynalite' {
  import type { Server } from 'node:http';

  interface DynaliteOptions {
    createTableMs?: number;
    deleteTableMs?: number;
    updateTableMs?: number;
    maxItemSizeKb?: number;
    path?: string;
  }

  /** An in-process DynamoDB API server (LevelDB, in memory by default). */
  function dynalite(options?: DynaliteOptions): Server;
  export default dynalite;
}
