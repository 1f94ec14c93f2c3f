// Types for bench/catalog-gen.js (plain JavaScript so the bench runs without a build).
import type { ComponentSpecInput } from '@nestor/sdk';

export interface Random {
  next(): number;
  int(n: number): number;
  pick<T>(list: readonly T[]): T;
  chance(p: number): boolean;
  weighted<T>(weighted: readonly (readonly [T, number])[]): T;
}
export function rng(seed: number): Random;
export function zipf(n: number, s: number, random: Random): () => number;
export const PROVIDERS: readonly (readonly [string, number])[];
export const TEAMS: readonly string[];
export function generateCatalog(
  count: number,
  opts?: { seed?: number },
): { specs: (ComponentSpecInput & { name: string; version: string })[]; names: string[] };
export function searchLog(names: readonly string[], count: number, opts?: { seed?: number }): string[];
export function listLog(count: number, opts?: { seed?: number }): string[];
export function readLog(
  names: readonly string[],
  count: number,
  opts?: { seed?: number },
): { exact: string[]; latest: string[] };
