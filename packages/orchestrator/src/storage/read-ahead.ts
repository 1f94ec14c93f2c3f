import type { ReadAhead } from './interfaces.js';

/**
 * How `readAheadListed` reads, on every store that can: from this many stored rows (versions) on
 * (below, a cold walk of them is quick, and starting the read costs more than it saves), this many
 * rowids a statement (the step between two chances for `stop` to end it).
 */
export const READ_AHEAD_ROWS = 10_000;
export const READ_AHEAD_STEP = 4_096;

/** What a store answers when it does not read ahead. */
export const NO_READ_AHEAD: ReadAhead = { stop: () => {}, done: Promise.resolve(false) };
