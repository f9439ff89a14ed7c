/**
 * Pipeline file → execution plan: read (load.ts), check the shape (schema.ts), check the
 * cross-field rules and expand (validate.ts, expand.ts), and assemble a {@link PipelinePlan}.
 *
 * Two kinds of entry points, for a file on disk, text or plain data: `compile…` throws a
 * {@link PipelineValidationError} listing every error; `validate…` never throws for bad input and
 * returns errors and warnings.
 */
import * as path from 'node:path';
import { type PipelinePlan, pipelinePlanSchema } from '../model/plan';
import { PipelineValidationError, type ValidationIssue, formatIssue } from './issues';
import { type LoadResult, parsePipelineText, readPipelineFile } from './load';
import { parsePipelineFile } from './schema';
import { declaredVariables, validatePipeline } from './validate';
import type { ChildPipelineLoader } from './expand';
import { MAX_PLAN_BYTES, encodedBytes } from '../model/message-size';

/** `${{ pipeline.id }}` while only validating: the real id is chosen when a run starts. */
export const VALIDATION_PIPELINE_ID = 'validation-only';

/** Options of {@link compilePipeline}. */
export interface CompileOptions {
  /** `--var NAME=VALUE` overrides; they win over every variable in the file. */
  vars?: Readonly<Record<string, string>>;
  /** The pipeline id the run will have (the pipeline workflow's id). */
  pipelineId: string;
}

/** A compiled plan and the warnings found on the way (print them; they do not stop a run). */
export interface CompiledPipeline {
  plan: PipelinePlan;
  warnings: ValidationIssue[];
}

/** Errors and warnings of a pipeline file; valid when `errors` is empty. */
export interface ValidationReport {
  errors: ValidationIssue[];
  warnings: ValidationIssue[];
  /** The plan, compiled with the {@link VALIDATION_PIPELINE_ID} placeholder, when the file is valid. */
  plan?: PipelinePlan;
}

type CompileOutcome =
  | { plan: PipelinePlan; warnings: ValidationIssue[] }
  | { errors: ValidationIssue[]; warnings: ValidationIssue[] };

/**
 * Reads, validates and compiles a pipeline file into the plan the pipeline workflow runs.
 * @throws {PipelineValidationError} with every error when the file is missing or invalid.
 */
export function compilePipeline(filePath: string, options: CompileOptions): CompiledPipeline {
  return unwrap(filePath, compileLoaded(readPipelineFile(filePath), filePath, options));
}

/**
 * Same as {@link compilePipeline} for text already in memory; `fileName` is used in messages and
 * picks JSON or YAML (`.json` is JSON).
 * @throws {PipelineValidationError}
 */
export function compilePipelineText(
  text: string,
  fileName: string,
  options: CompileOptions,
): CompiledPipeline {
  const format = fileName.toLowerCase().endsWith('.json') ? 'json' : 'yaml';
  return unwrap(fileName, compileLoaded(parsePipelineText(text, format), fileName, options));
}

/**
 * Same as {@link compilePipeline} for a pipeline already in memory as plain data (an object
 * written in code, say); `source` names it in messages and in the plan.
 * @throws {PipelineValidationError}
 */
export function compilePipelineData(
  data: unknown,
  source: string,
  options: CompileOptions,
): CompiledPipeline {
  return unwrap(source, compileLoaded({ ok: true, data }, source, options));
}

/** Options of {@link validatePipelineFile} and {@link validatePipelineData}. */
export interface ValidateOptions {
  /** `--var NAME=VALUE` overrides. */
  vars?: Readonly<Record<string, string>>;
  /** The id `${{ pipeline.id }}` expands to; {@link VALIDATION_PIPELINE_ID} when absent. */
  pipelineId?: string;
}

/**
 * Validates a pipeline file as `convoy validate` does. Never throws for anything the file (or its
 * absence) can do; the `${{ pipeline.id }}` placeholder is {@link VALIDATION_PIPELINE_ID}.
 */
export function validatePipelineFile(filePath: string, options: ValidateOptions = {}): ValidationReport {
  return report(compileLoaded(readPipelineFile(filePath), filePath, validationOptions(options)));
}

/** Same as {@link validatePipelineFile} for plain data; `source` names it in messages. Never throws. */
export function validatePipelineData(
  data: unknown,
  source: string,
  options: ValidateOptions = {},
): ValidationReport {
  return report(compileLoaded({ ok: true, data }, source, validationOptions(options)));
}

function validationOptions(options: ValidateOptions): CompileOptions {
  return { vars: options.vars, pipelineId: options.pipelineId ?? VALIDATION_PIPELINE_ID };
}

function report(outcome: CompileOutcome): ValidationReport {
  return 'plan' in outcome ? { errors: [], warnings: outcome.warnings, plan: outcome.plan } : outcome;
}

/** How deep child pipelines may nest (a pipeline, its child, the child's child, ...). */
export const MAX_CHILD_PIPELINE_DEPTH = 8;

/**
 * Reads and compiles the child pipeline files that `source`'s pipeline steps name, relative to
 * `source`. `chain` holds the files being compiled, outermost first: a file that names one of
 * them would nest forever.
 */
function childLoader(source: string, chain: readonly string[]): ChildPipelineLoader {
  const shown = (file: string) => path.relative(process.cwd(), file) || file;
  return ({ file, variables, pipelineId }) => {
    const resolved = path.resolve(path.dirname(path.resolve(source)), file);
    const problem = (message: string) => ({ ok: false as const, issues: [{ at: ['file'], message }] });
    if (chain.includes(resolved)) {
      return problem(
        `child pipelines include each other in a cycle: ${[...chain, resolved].map(shown).join(' → ')}`,
      );
    }
    if (chain.length >= MAX_CHILD_PIPELINE_DEPTH)
      return problem(`child pipelines nest more than ${MAX_CHILD_PIPELINE_DEPTH} levels deep`);
    const loaded = readPipelineFile(resolved);
    if (!loaded.ok) return problem(formatIssue(file, loaded.issues[0]!));
    const parsed = parsePipelineFile(loaded.data);
    if (!parsed.ok)
      return {
        ok: false,
        issues: parsed.issues.map((issue) => ({ at: ['file'], message: formatIssue(file, issue) })),
      };
    const declared = declaredVariables(parsed.file);
    const undeclared = Object.keys(variables).filter((name) => !declared.has(name));
    if (undeclared.length > 0) {
      const known = [...declared].sort();
      return {
        ok: false,
        issues: undeclared.map((name) => ({
          at: ['variables', name],
          message: `${file} declares no variable '${name}' (${known.length > 0 ? `declared: ${known.join(', ')}` : 'it declares none'})`,
        })),
      };
    }
    const validation = validatePipeline(parsed.file, {
      vars: variables,
      pipelineId,
      loadChild: childLoader(resolved, [...chain, resolved]),
      asChild: true,
    });
    if (validation.errors.length > 0)
      return {
        ok: false,
        issues: validation.errors.map((issue) => ({ at: ['file'], message: formatIssue(file, issue) })),
      };
    const plan = pipelinePlanSchema.parse({
      pipelineId,
      name: parsed.file.name,
      source: shown(resolved),
      failureStrategies: parsed.file.failureStrategies ?? [],
      stages: validation.stages,
    });
    return { ok: true, plan };
  };
}

function compileLoaded(loaded: LoadResult, source: string, options: CompileOptions): CompileOutcome {
  const idProblem = checkPipelineId(options.pipelineId);
  if (idProblem) return { errors: [{ path: '--id', message: idProblem }], warnings: [] };
  if (!loaded.ok) return { errors: loaded.issues, warnings: [] };
  const parsed = parsePipelineFile(loaded.data);
  if (!parsed.ok) return { errors: parsed.issues, warnings: [] };
  const file = parsed.file;
  const validation = validatePipeline(file, {
    ...options,
    loadChild: childLoader(source, [path.resolve(source)]),
  });
  if (validation.errors.length > 0) return { errors: validation.errors, warnings: validation.warnings };

  // The parse is a final guarantee that what we hand to the workflow matches its contract; a
  // failure here is a bug in this module, not in the user's file, so it throws as one.
  const plan = pipelinePlanSchema.parse({
    pipelineId: options.pipelineId,
    name: file.name,
    source,
    failureStrategies: file.failureStrategies ?? [],
    stages: validation.stages,
  });
  // What the payload codec will send: large plans travel compressed.
  const bytes = encodedBytes({ plan });
  if (bytes > MAX_PLAN_BYTES) {
    return {
      errors: [
        {
          path: 'stages',
          message:
            `the compiled pipeline is ${bytes.toLocaleString('en-US')} bytes compressed, more than the ` +
            `${MAX_PLAN_BYTES.toLocaleString('en-US')} Convoy sends as a workflow input (a stock Temporal ` +
            "server warns above 512 KiB; Convoy's server refuses payloads above 768 KiB, below a 1 MB " +
            'signal); split it into several pipelines',
        },
      ],
      warnings: validation.warnings,
    };
  }
  return { plan, warnings: validation.warnings };
}

/**
 * Pipeline ids: letters, digits, `.`, `_`, `-`, starting with a letter or digit, at most 200
 * characters. A child's workflow id is `<pipeline id>/<workflow name>`, so a `/` (or anything
 * outside this set) could make two pipelines' children indistinguishable.
 */
export const PIPELINE_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;

/** Why `id` cannot be a pipeline id, or undefined when it can. */
export function checkPipelineId(id: string): string | undefined {
  if (id === '') return 'the pipeline id must not be empty';
  if (!PIPELINE_ID_PATTERN.test(id)) {
    return (
      'a pipeline id is letters, digits, ".", "_" and "-", starting with a letter or digit, at most ' +
      '200 characters (children are named <pipeline id>/<workflow>, so "/" and other characters would make them ambiguous)'
    );
  }
  return undefined;
}

function unwrap(file: string, outcome: CompileOutcome): CompiledPipeline {
  if ('plan' in outcome) return outcome;
  throw new PipelineValidationError(file, outcome.errors, outcome.warnings);
}
