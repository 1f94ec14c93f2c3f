const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * Parses `500ms`, `30s`, `5m`, `1h` or a plain number of seconds into milliseconds.
 * Returns null for anything else (negative, empty, unknown unit, non-finite).
 */
export function parseDuration(value: unknown): number | null {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? Math.round(value * 1000) : null;
  if (typeof value !== 'string') return null;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(value);
  if (!m) return null;
  const amount = Number(m[1]);
  const unit = m[2] ?? 's';
  const ms = amount * (UNIT_MS[unit] ?? 1000);
  return Number.isFinite(ms) ? Math.round(ms) : null;
}
