import type { ChildProcess } from 'node:child_process';

export interface DynamoDBLocal {
  endpoint: string;
  port: number;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  pid: number | undefined;
  close(): Promise<void>;
}

export interface DynamoDBLocalProcess {
  child: ChildProcess;
  dir: string;
  log: string;
  state: { exited: number | string | null; error: (Error & { code?: string }) | null };
}

export const LOCAL_CREDENTIALS: Readonly<{ accessKeyId: string; secretAccessKey: string }>;
export const LOCAL_REGION: string;
export function freePort(): Promise<number>;
export function spawnDynamoDBLocal(opts: { port: number; java?: string }): DynamoDBLocalProcess;
export function waitForDynamoDBLocal(
  endpoint: string,
  opts?: { timeoutMs?: number; dir?: string | null },
): Promise<void>;
export function stopDynamoDBLocal(proc: DynamoDBLocalProcess): Promise<void>;
export function startDynamoDBLocal(opts?: { port?: number; timeoutMs?: number }): Promise<DynamoDBLocal>;
