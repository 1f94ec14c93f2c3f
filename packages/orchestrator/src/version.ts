import { readFileSync } from 'node:fs';
import type { VersionInfo } from '@nestor/sdk';

/**
 * Build information. The version comes from the package manifest; commit and build date from
 * `NESTOR_BUILD_COMMIT` / `NESTOR_BUILD_DATE`, which the container build sets.
 */
export function buildInfo(env: Record<string, string | undefined>): VersionInfo {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return {
    version: pkg.version,
    commit: env.NESTOR_BUILD_COMMIT ?? 'unknown',
    build_date: env.NESTOR_BUILD_DATE ?? 'unknown',
    node: process.version,
  };
}
