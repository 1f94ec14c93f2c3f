import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { ReadAhead } from '../interfaces.js';
import { NO_READ_AHEAD, READ_AHEAD_STEP } from '../read-ahead.js';

/**
 * The worker's whole program (CommonJS, as an eval'd worker runs): its own read-only connection
 * reads each listed row's definition whole, in row order, a step of rowids at a time. A scan of
 * the table rather than of the name index, whose order is not the order rows are stored in.
 */
const PROGRAM = `
const { workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.path, { readonly: true, fileMustExist: true });
try {
  const step = db
    .prepare('SELECT sum(length(definition)) FROM components NOT INDEXED WHERE latest_any = 1 AND id > ? AND id <= ?')
    .pluck();
  for (let from = 0; from < workerData.lastRowId; from += workerData.step) step.get(from, from + workerData.step);
} finally {
  db.close();
}
`;

const DRIVER = createRequire(import.meta.url).resolve('better-sqlite3');

/**
 * Starts reading every listed row of the database at `path` (up to rowid `lastRowId`) on a worker
 * thread, so that a walk of the rows in name order running meanwhile finds them in the page cache
 * instead of making one random read a row. The read only warms the cache: a failure leaves the
 * walk to read as it would have.
 */
export function startReadAhead(path: string, lastRowId: number): ReadAhead {
  let worker: Worker;
  try {
    worker = new Worker(PROGRAM, {
      eval: true,
      workerData: { driver: DRIVER, path, lastRowId, step: READ_AHEAD_STEP },
    });
  } catch {
    return NO_READ_AHEAD;
  }
  worker.unref();
  let failed = false;
  worker.on('error', () => {
    failed = true;
  });
  let stopped = false;
  const done = new Promise<boolean>((resolve) =>
    worker.on('exit', (code) => resolve(code === 0 && !failed && !stopped)),
  );
  return {
    stop: () => {
      if (stopped) return;
      stopped = true;
      void worker.terminate();
    },
    done,
  };
}
