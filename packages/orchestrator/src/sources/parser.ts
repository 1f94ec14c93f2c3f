import { type ComponentSpec, NestorError, type SourceFileError } from '@nestor/sdk';
import { type Document, isMap, isSeq, type Node } from 'yaml';
import { decodeComponent } from '../catalog/component-decoder.js';
import { DEFAULT_YAML_LIMITS, parseYamlBounded, type YamlLimits } from '../yaml/bounded-yaml.js';
import { fileError, isSourceFileErrorCode, type Position, type SourceFileErrorCode } from './file-errors.js';

/** Largest component file read (bytes); bigger files are reported as `file_too_large`. */
export const MAX_FILE_BYTES = 1024 * 1024;

/** One component document of a file, ready to validate and write. */
export interface ParsedComponent {
  spec: ComponentSpec;
  path: string;
  /** Index of the document in its file (0-based). */
  document: number;
  /** Where the document starts. */
  position: Position;
  /** Where a field (`required_inputs[0].type`) is written; falls back to the document start. */
  locate(field: string): Position;
}

export interface ParsedFile {
  components: ParsedComponent[];
  errors: SourceFileError[];
}

export interface ParseInput {
  /** Path under the repository root, `/`-separated. */
  path: string;
  content: Buffer;
  /** Repository URL without credentials (or the folder of a directory source). */
  repository: string;
  /** Commit the file was read at; null for a directory source. */
  commit: string | null;
  maxBytes?: number;
  /** Bounds on the YAML; `DEFAULT_YAML_LIMITS` when absent. */
  limits?: YamlLimits;
}

/** What a sync parses files with; the syncer takes one so that tests can count the parses. */
export interface ComponentFileParser {
  parse(input: ParseInput): ParsedFile;
}

/** `parseComponentFile` as a `ComponentFileParser`. */
export const componentFileParser: ComponentFileParser = { parse: parseComponentFile };

const utf8 = new TextDecoder('utf-8', { fatal: true });
const MAX_ERRORS_PER_FILE = 10;

/**
 * Why a path may not be read, or null when it may: absolute paths, backslashes, and `.`, `..` or
 * empty segments are rejected so that nothing outside the repository can be named.
 */
export function pathProblem(path: string): string | null {
  if (path.length === 0) return 'empty path';
  if (path.startsWith('/')) return 'absolute paths are not allowed';
  if (path.includes('\\')) return 'backslashes are not allowed in paths';
  if (path.includes('\0')) return 'NUL bytes are not allowed in paths';
  for (const segment of path.split('/')) {
    if (segment === '..') return '".." segments are not allowed in paths';
    if (segment === '.' || segment === '') return 'empty or "." segments are not allowed in paths';
  }
  return null;
}

/**
 * Parses a component file: one or several YAML documents, each a component. Never throws for bad
 * input; every problem is a per-file error with a line and column where there is one. Files that
 * are too large, binary, not UTF-8 or at an unsafe path are rejected before parsing.
 */
export function parseComponentFile(input: ParseInput): ParsedFile {
  const { path, content } = input;
  const limit = input.maxBytes ?? MAX_FILE_BYTES;
  const bad = (code: SourceFileErrorCode, message: string, position?: Position): ParsedFile => ({
    components: [],
    errors: [fileError(path, code, message, position)],
  });
  const unsafe = pathProblem(path);
  if (unsafe) return bad('path_not_allowed', unsafe);
  if (content.length > limit) {
    return bad('file_too_large', `file is ${content.length} bytes; the limit is ${limit} bytes`);
  }
  if (content.subarray(0, 8000).includes(0)) {
    return bad('binary_file', 'file looks binary (it contains NUL bytes); component files are YAML');
  }
  let text: string;
  try {
    text = utf8.decode(content);
  } catch {
    return bad('invalid_encoding', 'file is not valid UTF-8');
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);

  const { documents: docs, lineCounter, problem } = parseYamlBounded(text, input.limits ?? DEFAULT_YAML_LIMITS);
  const position = (offset: number | undefined | null): Position => {
    if (offset === undefined || offset === null) return { line: null, column: null };
    const pos = lineCounter.linePos(offset);
    return { line: pos.line, column: pos.col };
  };
  if (problem) {
    return bad('yaml_too_complex', `file refused: ${problem.message}`, position(problem.offset));
  }

  const result: ParsedFile = { components: [], errors: [] };
  const push = (error: SourceFileError) => {
    if (result.errors.length < MAX_ERRORS_PER_FILE) result.errors.push(error);
  };
  docs.forEach((doc, index) => {
    if (doc.errors.length > 0) {
      for (const err of doc.errors) {
        const at = err.linePos?.[0];
        const where = at ? ` at line ${at.line}, column ${at.col}` : '';
        push(
          fileError(path, 'invalid_yaml', `invalid YAML: ${firstLine(err.message)}${where}`, {
            line: at?.line ?? null,
            column: at?.col ?? null,
          }),
        );
      }
      return;
    }
    if (doc.contents === null) return;
    const start = position(doc.contents.range?.[0]);
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: 100 });
    } catch (err) {
      push(fileError(path, 'invalid_yaml', `invalid YAML: ${(err as Error).message}`, start));
      return;
    }
    const locate = (field: string): Position => {
      const offset = offsetOf(doc, field);
      return offset === undefined ? start : position(offset);
    };
    let spec: ComponentSpec;
    try {
      spec = decodeComponent(value, { component: 'git', operation: 'ParseComponent', what: 'component document' });
    } catch (err) {
      if (!NestorError.is(err)) throw err;
      const field = typeof err.details.field === 'string' ? err.details.field : '';
      // Decoding only ever refuses a document as an invalid request; anything else is a bug.
      const code = isSourceFileErrorCode(err.code) ? err.code : 'invalid_request';
      push(fileError(path, code, documentLabel(docs.length, index, err.message), locate(field)));
      return;
    }
    spec.git_repository = input.repository;
    spec.git_commit = input.commit;
    spec.git_path = path;
    result.components.push({ spec, path, document: index, position: start, locate });
  });
  if (result.components.length === 0 && result.errors.length === 0) {
    push(fileError(path, 'no_component', 'file contains no YAML document', { line: 1, column: 1 }));
  }
  return result;
}

function documentLabel(count: number, index: number, message: string): string {
  return count > 1 ? `document ${index + 1}: ${message}` : message;
}

function firstLine(message: string): string {
  return message.split('\n')[0] ?? message;
}

/** `required_inputs[0].type` → `['required_inputs', 0, 'type']`. */
export function fieldPath(field: string): (string | number)[] {
  const out: (string | number)[] = [];
  for (const part of field.split('.')) {
    const m = /^([^[\]]*)((?:\[\d+\])*)$/.exec(part);
    if (!m) {
      out.push(part);
      continue;
    }
    if (m[1]) out.push(m[1]);
    for (const idx of (m[2] ?? '').matchAll(/\[(\d+)\]/g)) out.push(Number(idx[1]));
  }
  return out;
}

/**
 * Offset of the deepest node along a field path: the key of a mapping entry (so an unknown or
 * mistyped field points at its name), an item of a sequence, or the closest existing parent.
 */
function offsetOf(doc: Document, field: string): number | undefined {
  let node: unknown = doc.contents;
  let offset = (doc.contents as Node | null)?.range?.[0];
  if (!field) return offset;
  for (const key of fieldPath(field)) {
    if (isMap(node)) {
      const pair = node.items.find((p) => {
        const k = p.key as { value?: unknown } | null;
        return k !== null && typeof k === 'object' && String(k.value) === String(key);
      });
      if (!pair) return offset;
      offset = (pair.key as Node | null)?.range?.[0] ?? offset;
      node = pair.value;
    } else if (isSeq(node) && typeof key === 'number') {
      const item = node.items[key] as Node | undefined;
      if (!item) return offset;
      offset = item.range?.[0] ?? offset;
      node = item;
    } else {
      return offset;
    }
  }
  return offset;
}
