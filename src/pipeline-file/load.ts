/**
 * Reading a pipeline file into plain data, safely.
 *
 * The file comes from a user (or a CI job acting for one), so nothing in it may crash the process
 * or change anything outside the returned value:
 * - size is capped before reading ({@link MAX_PIPELINE_FILE_BYTES});
 * - the YAML library's `toJS` is not used: we convert its syntax tree ourselves, with a nesting
 *   limit, a budget of values and of alias expansions (an "alias bomb" of nested `*refs` would
 *   otherwise grow exponentially), and into null-prototype objects;
 * - a `__proto__` key is rejected outright, so no consumer can ever be tricked by one;
 * - YAML `prettyErrors` stay off: building the pretty context of an error on a pathological line
 *   (100k nested `- - - …`) made V8's regexp compiler abort the process in yaml 2.9.
 *
 * YAML is a superset of JSON, so one parser reads both; `.json` files use the strict JSON schema.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Document, LineCounter, isAlias, isMap, isPair, isScalar, isSeq, parseDocument } from 'yaml';
import type { Node as YamlNode } from 'yaml';
import { type PathSegment, type ValidationIssue, formatPath } from './issues';

/** Largest pipeline file we read (5 MiB): real pipelines are a few kilobytes. */
export const MAX_PIPELINE_FILE_BYTES = 5 * 1024 * 1024;
/** Deepest nesting of mappings and lists accepted; the pipeline format itself needs about 8. */
export const MAX_NESTING_DEPTH = 64;
/** Most values (scalars, mappings, lists) one file may produce, aliases included. */
export const MAX_VALUE_COUNT = 200_000;
/** Most alias (`*name`) expansions one file may use. */
export const MAX_ALIAS_COUNT = 100;
/**
 * Nesting the pre-scan lets through to the YAML library (see {@link estimateNestingDepth}). The
 * library recurses once per level; near the stack limit V8 can abort the whole process while
 * compiling a regular expression (seen at ~1000 levels), which no try/catch can stop.
 */
export const MAX_PRESCAN_NESTING_DEPTH = 200;

/** Keys rejected anywhere in the file: assigning them to an ordinary object rewires its prototype. */
const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__']);

/** The outcome of reading a file: plain data (not yet validated) or the reasons it has none. */
export type LoadResult = { ok: true; data: unknown } | { ok: false; issues: ValidationIssue[] };

/** Which YAML tag schema resolves plain scalars: `json` for `.json` files, `core` otherwise. */
export type SourceFormat = 'yaml' | 'json';

/** Picks the format from the file name: `.json` is JSON, anything else YAML. */
export function formatForFile(filePath: string): SourceFormat {
  return path.extname(filePath).toLowerCase() === '.json' ? 'json' : 'yaml';
}

/**
 * Reads a pipeline file from disk. Never throws for anything the file (or its absence) can do:
 * every problem comes back as an issue with an empty path, as it concerns the whole file.
 */
export function readPipelineFile(filePath: string): LoadResult {
  let stats: fs.Stats;
  try {
    stats = fs.statSync(filePath);
  } catch (error) {
    return fileProblem(describeFsError(error));
  }
  if (stats.isDirectory()) return fileProblem('is a directory, not a pipeline file');
  if (!stats.isFile()) return fileProblem('is not a regular file');
  if (stats.size > MAX_PIPELINE_FILE_BYTES) return fileProblem(tooLargeMessage(stats.size));

  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(filePath);
  } catch (error) {
    return fileProblem(describeFsError(error));
  }
  // The file may have grown between stat and read.
  if (bytes.length > MAX_PIPELINE_FILE_BYTES) return fileProblem(tooLargeMessage(bytes.length));
  if (!isText(bytes)) return fileProblem('is not a text file (a pipeline file is UTF-8 YAML or JSON)');
  return parsePipelineText(bytes.toString('utf8'), formatForFile(filePath));
}

/** UTF-8 without NUL bytes: what any YAML or JSON file is. */
function isText(bytes: Buffer): boolean {
  if (bytes.includes(0)) return false;
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return true;
  } catch {
    return false;
  }
}

/**
 * Parses pipeline text (YAML or JSON) into plain data made of null-prototype objects, arrays,
 * strings, numbers, booleans and nulls. Never throws.
 */
export function parsePipelineText(text: string, format: SourceFormat = 'yaml'): LoadResult {
  if (text.length > MAX_PIPELINE_FILE_BYTES) return fileProblem(tooLargeMessage(text.length));
  const source = text.startsWith('\uFEFF') ? text.slice(1) : text;
  if (source.trim() === '') return fileProblem('the file is empty; expected a pipeline definition');

  if (estimateNestingDepth(source, MAX_PRESCAN_NESTING_DEPTH) > MAX_PRESCAN_NESTING_DEPTH) {
    return fileProblem(`nested too deeply (more than ${MAX_NESTING_DEPTH} levels)`);
  }

  const lineCounter = new LineCounter();
  let document: Document.Parsed;
  try {
    document = parseDocument(source, {
      lineCounter,
      prettyErrors: false,
      schema: format === 'json' ? 'json' : 'core',
      uniqueKeys: true,
    });
  } catch (error) {
    // The library reports problems as document errors; a throw would be a bug there, but the
    // promise of this function is "never throws", so it becomes one more issue.
    return fileProblem(`cannot parse the file: ${errorMessage(error)}`);
  }

  // Warnings (an unresolved tag like `!foo`, say) would silently change meaning: treat them as errors.
  const syntaxProblems = [...document.errors, ...document.warnings];
  if (syntaxProblems.length > 0) {
    return {
      ok: false,
      issues: syntaxProblems.map((problem) => {
        const { line, col } = lineCounter.linePos(problem.pos[0]);
        return { path: `line ${line}, column ${col}`, message: describeYamlProblem(problem.message) };
      }),
    };
  }
  return new YamlToPlainData().convert(document);
}

/** Converts the YAML syntax tree to plain data under the limits documented at the top. */
class YamlToPlainData {
  private valueCount = 0;
  private aliasCount = 0;
  /** Anchors seen so far in document order; YAML aliases refer to the latest one of a name. */
  private readonly anchors = new Map<string, YamlNode>();
  private readonly issues: ValidationIssue[] = [];

  convert(document: Document.Parsed): LoadResult {
    if (document.contents === null) return fileProblem('the file is empty; expected a pipeline definition');
    const data = this.toPlain(document.contents, [], 0);
    return this.issues.length > 0 ? { ok: false, issues: this.issues } : { ok: true, data };
  }

  private toPlain(node: unknown, at: PathSegment[], depth: number): unknown {
    if (this.issues.length > 0) return undefined; // one structural problem is enough to stop
    if (depth > MAX_NESTING_DEPTH) {
      // Name where it starts going deep, not all 64 levels of path.
      this.issues.push({
        path: `${formatPath(at.slice(0, 8))}...`,
        message: `nested too deeply (more than ${MAX_NESTING_DEPTH} levels)`,
      });
      return undefined;
    }
    if (++this.valueCount > MAX_VALUE_COUNT) {
      return this.fail([], `the file holds too many values (more than ${MAX_VALUE_COUNT})`);
    }
    if (node === null || node === undefined) return null;

    if (isAlias(node)) {
      if (++this.aliasCount > MAX_ALIAS_COUNT) {
        return this.fail(at, `too many aliases (more than ${MAX_ALIAS_COUNT})`);
      }
      const target = this.anchors.get(node.source);
      if (target === undefined) return this.fail(at, `unknown alias *${node.source}`);
      // Expanding the target again (rather than sharing it) keeps the result a tree; the value
      // and depth budgets bound the cost, and a self-referencing alias hits the depth limit.
      return this.toPlain(target, at, depth + 1);
    }
    if (isScalar(node) || isMap(node) || isSeq(node)) {
      if (node.anchor) this.anchors.set(node.anchor, node);
    }
    if (isScalar(node)) {
      const value = node.value;
      if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
      if (typeof value === 'number') return value;
      return this.fail(at, 'unsupported value; expected a string, number, boolean or null');
    }
    if (isSeq(node)) {
      const list: unknown[] = [];
      node.items.forEach((item, index) => {
        list.push(this.toPlain(item, [...at, index], depth + 1));
      });
      return list;
    }
    if (isMap(node)) {
      // Null prototype: a key can never reach Object.prototype, and lookups see only own keys.
      const mapping: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
      for (const pair of node.items) {
        if (!isPair(pair)) return this.fail(at, 'malformed mapping entry');
        const key = this.keyOf(pair.key, at);
        if (key === undefined) return undefined;
        if (Object.hasOwn(mapping, key)) return this.fail([...at, key], 'duplicate key');
        mapping[key] = this.toPlain(pair.value, [...at, key], depth + 1);
      }
      return mapping;
    }
    return this.fail(at, 'unsupported YAML node');
  }

  private keyOf(keyNode: unknown, at: PathSegment[]): string | undefined {
    const resolved = isAlias(keyNode) ? this.anchors.get(keyNode.source) : keyNode;
    if (!isScalar(resolved)) {
      this.fail(at, 'mapping keys must be plain strings');
      return undefined;
    }
    const value = resolved.value;
    if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
      this.fail(at, 'mapping keys must be plain strings');
      return undefined;
    }
    const key = String(value);
    if (FORBIDDEN_KEYS.has(key)) {
      this.fail([...at, key], `the key '${key}' is not allowed`);
      return undefined;
    }
    return key;
  }

  private fail(at: PathSegment[], message: string): undefined {
    this.issues.push({ path: formatPath(at), message });
    return undefined;
  }
}

/** Characters after which `[`, `{`, `"` or `'` start a flow collection or a quoted scalar. */
const TOKEN_START_AFTER = '\n:-,[{?';

/**
 * An upper bound on how deeply YAML text nests, computed in one pass without recursion, so that
 * text the YAML library would recurse too deeply on never reaches it. Counts, per position: the
 * line's indentation (each block level indents at least one space), compact `- `/`? ` indicators
 * on the line (`- - - x` nests three lists), and open flow brackets outside quoted scalars and
 * comments. It over-estimates (a bracket at the start of a line in a block scalar counts), which
 * is harmless at a limit far above what pipelines need. Stops counting once over `limit`.
 */
export function estimateNestingDepth(text: string, limit = Number.POSITIVE_INFINITY): number {
  let deepest = 0;
  let flowDepth = 0;
  let indent = 0;
  let inIndent = true;
  let compactIndicators = 0;
  let previous = '\n'; // last significant (non-blank) character
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < text.length; i++) {
    const char = text[i]!;
    if (quote !== undefined) {
      if (char === '\\' && quote === '"') i += 1;
      else if (char === quote) {
        if (quote === "'" && text[i + 1] === "'")
          i += 1; // '' is an escaped quote
        else {
          quote = undefined;
          previous = char;
        }
      }
      continue;
    }
    if (char === '\n') {
      indent = 0;
      inIndent = true;
      compactIndicators = 0;
      previous = '\n';
      continue;
    }
    if (inIndent && char === ' ') {
      indent += 1;
      continue;
    }
    inIndent = false;
    if (char === ' ' || char === '\t' || char === '\r') continue;
    const atTokenStart = TOKEN_START_AFTER.includes(previous);
    if (char === '#' && /\s/.test(text[i - 1] ?? '\n')) {
      const end = text.indexOf('\n', i);
      i = (end < 0 ? text.length : end) - 1;
      continue;
    }
    if (
      (char === '-' || char === '?') &&
      /[ \t]/.test(text[i + 1] ?? '') &&
      (previous === '\n' || previous === '-' || previous === '?')
    ) {
      compactIndicators += 1;
    } else if ((char === '"' || char === "'") && atTokenStart) {
      quote = char;
    } else if ((char === '[' || char === '{') && atTokenStart) {
      flowDepth += 1;
    } else if ((char === ']' || char === '}') && flowDepth > 0) {
      flowDepth -= 1;
    }
    deepest = Math.max(deepest, indent + compactIndicators + flowDepth);
    if (deepest > limit) return deepest;
    previous = char;
  }
  return deepest;
}

function describeYamlProblem(message: string): string {
  if (/call stack/i.test(message)) return `nested too deeply (more than ${MAX_NESTING_DEPTH} levels)`;
  if (/multiple documents/i.test(message)) {
    return 'a pipeline file holds exactly one YAML document; found several (---)';
  }
  if (/alias count|resource exhaustion/i.test(message))
    return `too many aliases (more than ${MAX_ALIAS_COUNT})`;
  return `invalid YAML: ${message}`;
}

function fileProblem(message: string): LoadResult {
  return { ok: false, issues: [{ path: '', message }] };
}

function tooLargeMessage(size: number): string {
  return `the file is too large (${size} bytes; the limit is ${MAX_PIPELINE_FILE_BYTES} bytes, 5 MiB)`;
}

function describeFsError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'ENOENT':
      return 'file not found';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'is a directory, not a pipeline file';
    case 'ENOTDIR':
      return 'file not found (a parent of the path is not a directory)';
    default:
      return `cannot read the file: ${errorMessage(error)}`;
  }
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
