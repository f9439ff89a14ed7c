/**
 * Reading Harness YAML (plain data from the safe loader) field by field, and the value formats
 * Harness uses: durations (`10m`, `1h 30m`), runtime inputs (`<+input>.default(x)`) and identifiers.
 * Every problem is reported at the field's Harness path; readers return `undefined` instead of
 * throwing.
 *
 * Pure module.
 */
import { NAME_PATTERN } from '../pipeline-file/schema';
import { type HarnessLocation, type ImportReport, below } from './report';

/** A Harness mapping as the loader returns it (null-prototype object). */
export type HarnessRecord = Readonly<Record<string, unknown>>;

/** A Harness file as loaded: the name the user gave and its plain data. */
export interface HarnessFile {
  file: string;
  data: unknown;
}

/** A Harness file whose top level is a mapping. */
export type HarnessDocument = HarnessFile & { data: HarnessRecord };

/** Which keys of a mapping the importer reads, and which it knows to have no effect in Convoy. */
export interface KeyRules {
  /** Keys the importer reads (and reports on itself). */
  readonly read: readonly string[];
  /** Keys that change nothing Convoy does (names, tags, metadata): passed over silently. */
  readonly inert?: readonly string[];
}

/** Field readers that report what they cannot read. `null` counts as absent, as in Harness. */
export class HarnessReader {
  constructor(readonly report: ImportReport) {}

  /** A mapping; absent is reported when `required`. */
  mapping(value: unknown, at: HarnessLocation, required = false): HarnessRecord | undefined {
    if (value === undefined || value === null) return this.missing(at, required);
    if (typeof value === 'object' && !Array.isArray(value)) return value as HarnessRecord;
    this.report.error(at, `expected a mapping, got ${describeValue(value)}`);
    return undefined;
  }

  /** A list; absent is reported when `required`. */
  list(value: unknown, at: HarnessLocation, required = false): readonly unknown[] | undefined {
    if (value === undefined || value === null) return this.missing(at, required);
    if (Array.isArray(value)) return value;
    this.report.error(at, `expected a list, got ${describeValue(value)}`);
    return undefined;
  }

  /** Calls `visit` with each entry of a list that is a mapping (an entry that is not is reported). */
  eachMapping(
    value: unknown,
    at: HarnessLocation,
    visit: (record: HarnessRecord, at: HarnessLocation, index: number) => void,
  ): void {
    (this.list(value, at) ?? []).forEach((entry, index) => {
      const record = this.mapping(entry, below(at, index), true);
      if (record) visit(record, below(at, index), index);
    });
  }

  /** The strings of a list (entries that are not are reported). */
  texts(value: unknown, at: HarnessLocation, required = false): string[] {
    return (this.list(value, at, required) ?? []).flatMap((entry, index) => {
      const text = this.text(entry, below(at, index), true);
      return text === undefined ? [] : [text];
    });
  }

  /** A scalar as text (YAML reads `1.0` as a number; Harness means the text). */
  text(value: unknown, at: HarnessLocation, required = false): string | undefined {
    if (value === undefined || value === null) return this.missing(at, required);
    if (typeof value === 'string') return value;
    if (typeof value === 'number' || typeof value === 'boolean') return String(value);
    this.report.error(at, `expected a string, got ${describeValue(value)}`);
    return undefined;
  }

  /** A non-negative integer (a count, milliseconds, seconds), given as a number or digits. */
  integer(value: unknown, at: HarnessLocation, required = false): number | undefined {
    if (value === undefined || value === null) return this.missing(at, required);
    const number = typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value) : value;
    if (typeof number === 'number' && Number.isSafeInteger(number) && number >= 0) return number;
    this.report.error(at, `expected a whole number, got ${describeValue(value)}`);
    return undefined;
  }

  /** `true`/`false` (also as text); absent is `fallback`. */
  flag(value: unknown, at: HarnessLocation, fallback: boolean): boolean {
    if (value === undefined || value === null) return fallback;
    if (value === true || value === 'true') return true;
    if (value === false || value === 'false') return false;
    this.report.error(at, `expected true or false, got ${describeValue(value)}`);
    return fallback;
  }

  /** Warns about each key the importer neither reads nor knows to be inert: it is not carried over. */
  keys(record: HarnessRecord, at: HarnessLocation, rules: KeyRules): void {
    for (const key of Object.keys(record)) {
      if (rules.read.includes(key) || rules.inert?.includes(key)) continue;
      if (record[key] === null || record[key] === undefined) continue;
      this.report.warn(below(at, key), `not carried over: Convoy has no counterpart for '${key}' here`);
    }
  }

  private missing(at: HarnessLocation, required: boolean): undefined {
    if (required) this.report.error(at, 'missing required field');
    return undefined;
  }
}

export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return `'${value.length > 60 ? `${value.slice(0, 57)}...` : value}'`;
  return String(value);
}

// ---------------------------------------------------------------------------------------------
// Durations

const DURATION_UNITS_MS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};
const DURATION_TEXT = /^\s*(?:\d+\s*(?:ms|s|m|h|d|w)\s*)+$/;
const DURATION_PART = /(\d+)\s*(ms|s|m|h|d|w)/g;

/** A Harness duration (`10m`, `1h 30m`, `45s`, `2d`, `500ms`) in milliseconds; undefined if malformed. */
export function parseHarnessDuration(text: string): number | undefined {
  if (!DURATION_TEXT.test(text)) return undefined;
  let total = 0;
  for (const [, amount, unit] of text.matchAll(DURATION_PART))
    total += Number(amount) * DURATION_UNITS_MS[unit!]!;
  return total;
}

// ---------------------------------------------------------------------------------------------
// Runtime inputs

const RUNTIME_INPUT = /^<\+input>((?:\.[A-Za-z]+\([^()]*\))*)$/;
const INPUT_DEFAULT = /\.default\(([^()]*)\)/;

/**
 * A field's value as Harness would have it before the run: a literal, or a runtime input
 * (`<+input>`, with its `.default(x)` when it has one; `.allowedValues(...)` and the like are
 * passed over). Quotes around a default (`.default('x')`) are dropped.
 */
export type FieldValue = { kind: 'literal'; value: string } | { kind: 'input'; default?: string };

export function readRuntimeInput(text: string): FieldValue {
  const input = RUNTIME_INPUT.exec(text.trim());
  if (!input) return { kind: 'literal', value: text };
  const found = INPUT_DEFAULT.exec(input[1]!);
  if (!found) return { kind: 'input' };
  return { kind: 'input', default: found[1]!.trim().replace(/^(['"])(.*)\1$/, '$2') };
}

/**
 * The literal a field stands for, taking a runtime input's default with a warning; a runtime
 * input without a default is an error (`what` names the field in the message).
 */
export function literalOrDefault(
  text: string,
  at: HarnessLocation,
  report: ImportReport,
  what: string,
): string | undefined {
  const value = readRuntimeInput(text);
  if (value.kind === 'literal') return value.value;
  if (value.default !== undefined) {
    report.warn(at, `runtime input '${text}': imported with its default '${value.default}'`);
    return value.default;
  }
  report.error(at, `runtime input '${text}' has no default; write the ${what} itself`);
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Names

const MAX_NAME_LENGTH = 128;

/**
 * A Convoy name (pipeline, stage, workflow) for a Harness identifier or name: characters other
 * than letters, digits, `.`, `_` and `-` become `-` (`Deploy payments` → `Deploy-payments`), and
 * it starts with a letter or digit (`_canary` → `canary`). Undefined when nothing is left.
 */
export function convoyName(text: string): string | undefined {
  const name = text
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/^[^A-Za-z0-9]+/, '')
    .replace(/-+$/, '')
    .slice(0, MAX_NAME_LENGTH);
  return NAME_PATTERN.test(name) ? name : undefined;
}

/** `base`, or `base<separator>2`, `base<separator>3`... : the first not in `used` (which it joins). */
export function uniqueName(base: string, used: Set<string>, separator = '-'): string {
  let name = base;
  for (let n = 2; used.has(name); n++) name = `${base}${separator}${n}`;
  used.add(name);
  return name;
}
