import { readFileSync, statSync } from 'node:fs';
import { parseYamlBounded } from '../yaml/bounded-yaml.js';
import { configError } from './check.js';

/** Largest config file read; a real one is a few KB. */
const MAX_CONFIG_BYTES = 1024 * 1024;

export function readConfigFile(path: string): Record<string, unknown> {
  const unreadable = (err: unknown) =>
    configError(`cannot read config file ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
  let size: number;
  try {
    size = statSync(path).size;
  } catch (err) {
    throw unreadable(err);
  }
  if (size > MAX_CONFIG_BYTES) {
    throw configError(`config file ${path} is ${size} bytes; the limit is ${MAX_CONFIG_BYTES} bytes`);
  }
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw unreadable(err);
  }
  // Bounded like component files: a hostile config must not abort or stall the process.
  const { documents, problem, lineCounter } = parseYamlBounded(text);
  const at = (offset: number | null | undefined) => {
    if (offset === null || offset === undefined) return '';
    const { line, col } = lineCounter.linePos(offset);
    return ` at line ${line}, column ${col}`;
  };
  if (problem) throw configError(`config file ${path} is refused: ${problem.message}${at(problem.offset)}`);
  if (documents.length > 1) throw configError(`config file ${path} must hold one YAML document`);
  const [document] = documents;
  if (!document) return {};
  const [error] = document.errors;
  if (error) {
    const message = error.message.split('\n')[0] ?? error.message;
    throw configError(`config file ${path} is not valid YAML: ${message}${at(error.pos[0])}`);
  }
  let doc: unknown;
  try {
    doc = document.toJS({ maxAliasCount: 100 });
  } catch (err) {
    throw configError(`config file ${path} is not valid YAML: ${(err as Error).message}`);
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== 'object' || Array.isArray(doc)) throw configError(`config file ${path} must be a YAML mapping`);
  return doc as Record<string, unknown>;
}
