/**
 * The pipeline FILE format (SPEC section 1) as zod schemas, and the translation of zod's issues
 * into messages a deployment engineer can act on.
 *
 * The schema checks everything that can be judged field by field: types, unknown fields, name and
 * identifier syntax, duration ranges, the shape of failure rules. Rules that compare several
 * fields across the file (duplicate names, barrier order, variables) live in `validate.ts`.
 *
 * Every object is strict: a misspelt field (`comand:`) is an error, never silently ignored.
 */
import { distance as levenshtein } from 'fastest-levenshtein';
import { z } from 'zod';
import { isFinalErrorType } from '../model/failure-policy';
import {
  Actions,
  DEFAULT_BARRIER_TIMEOUT_MS,
  MAX_DURATION_MS,
  errorTypeSchema,
  fallbackActionSchema,
  interventionTimeoutActionSchema,
} from '../model/plan';
import { SECRET_NAME_PATTERN } from '../model/secrets';
import { type PathSegment, type ValidationIssue, formatPath } from './issues';

/** Pipeline, stage and workflow names: they appear in CLI arguments and Temporal workflow ids. */
export const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
/** Barrier identifiers: literals only (SPEC section 2 rule 1). */
export const BARRIER_IDENTIFIER_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
/** Variable names, as used in `${{ vars.NAME }}` and `--var NAME=value`. */
export const VARIABLE_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_-]*$/;
/** Environment variable names for shell steps (POSIX portable names). */
export const ENV_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** HTTP header names (RFC 9110 token characters). */
export const HEADER_NAME_PATTERN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** Substrings that start an expression in Convoy (`${{`), the shell (`${`) or Harness (`<+`). */
export const EXPRESSION_MARKERS = ['${{', '${', '<+'] as const;

/** Longest name we accept; Temporal ids are built from names, keep them readable. */
const MAX_NAME_LENGTH = 128;

/** The step types, in the order error messages list them. */
export const STEP_TYPES = ['shell', 'http', 'wait', 'barrier', 'pipeline', 'parallel'] as const;
export const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

// ---------------------------------------------------------------------------------------------
// Building blocks

/** A name for pipelines, stages and workflows. */
const nameSchema = z
  .string()
  .min(1, { error: 'must not be empty' })
  .max(MAX_NAME_LENGTH, { error: `must be at most ${MAX_NAME_LENGTH} characters` })
  .regex(NAME_PATTERN, {
    error: "must start with a letter or digit and contain only letters, digits, '.', '_' and '-'",
  });

/** Step names only need to be unique and printable: they never leave the workflow. */
const stepNameSchema = z
  .string()
  .min(1, { error: 'must not be empty' })
  .max(MAX_NAME_LENGTH, { error: `must be at most ${MAX_NAME_LENGTH} characters` })
  .regex(/^[^\u0000-\u001f\u007f]+$/, { error: 'must not contain control characters' });

/**
 * Millisecond durations (SPEC section 2 rule 3), with the messages the spec quotes.
 * `plan.ts` has the same range as `durationMsSchema`; this copy carries user-facing messages.
 */
export const fileDurationMsSchema = z
  .number({ error: 'expected a positive integer' })
  .int({ error: 'expected a positive integer' })
  .min(1, { error: 'expected a positive integer' })
  .max(MAX_DURATION_MS, { error: `must be at most ${MAX_DURATION_MS} (30 days)` });

/**
 * A scalar used as text. YAML reads `port: 8080` and `debug: true` as a number and a boolean;
 * users mean the text, so numbers and booleans are converted rather than rejected.
 */
const textValueSchema = z
  .union([z.string(), z.number(), z.boolean()], { error: 'expected a string' })
  .transform((value) => String(value));

/** A string mapping whose keys follow `keyPattern` (and are never `__proto__`). */
function textRecord(keyPattern: RegExp, what: string, reservedPrefix?: string) {
  const keySchema = z
    .string()
    .regex(keyPattern, { error: `invalid ${what} name` })
    .refine((key) => key !== '__proto__', { error: `invalid ${what} name` })
    .refine((key) => reservedPrefix === undefined || !key.startsWith(reservedPrefix), {
      error: `names starting with ${reservedPrefix} are reserved for Convoy`,
    });
  return z.record(keySchema, textValueSchema);
}

export const variablesSchema = textRecord(VARIABLE_NAME_PATTERN, 'variable').describe(
  'Variables for ${{ vars.NAME }}; `convoy run --var NAME=VALUE` overrides them.',
);

/**
 * Where the worker reads one secret: `{ env: NAME }` (its environment) or `{ file: /path }` (a
 * mounted Kubernetes Secret, say); exactly one of the two.
 */
export const secretSourceFileSchema = z
  .strictObject({
    env: z
      .string()
      .regex(ENV_NAME_PATTERN, { error: 'expected an environment variable name' })
      .optional()
      .describe("An environment variable of the worker's."),
    file: z
      .string()
      .regex(/^\/[^\u0000]*$/, { error: 'expected an absolute path' })
      .optional()
      .describe('An absolute path on the worker, e.g. a mounted Kubernetes Secret.'),
  })
  .superRefine((source, ctx) => {
    if ((source.env === undefined) === (source.file === undefined)) {
      ctx.addIssue({ code: 'custom', message: 'expected exactly one of env or file' });
    }
  })
  .meta({
    id: 'secretSource',
    description: 'Where the worker reads the secret, when a step that uses it runs.',
  });

export const secretsSchema = z
  .record(
    z.string().regex(SECRET_NAME_PATTERN, {
      error: "invalid secret name; expected letters, digits and '_', not starting with a digit",
    }),
    secretSourceFileSchema,
  )
  .describe(
    'Secrets for ${{ secrets.NAME }}: read on the worker when a step runs, never stored in the plan or history.',
  );

/**
 * Barrier identifier: a literal. Expressions get their own message because a user who writes
 * `barrier-${{ vars.region }}` needs to hear "no expressions here", not "bad characters".
 */
export const barrierIdentifierSchema = z.string().superRefine((identifier, ctx) => {
  if (EXPRESSION_MARKERS.some((marker) => identifier.includes(marker))) {
    ctx.addIssue({
      code: 'custom',
      message: 'expressions are not allowed in barrier identifiers; write a literal like services-deployed',
    });
  } else if (!BARRIER_IDENTIFIER_PATTERN.test(identifier)) {
    ctx.addIssue({
      code: 'custom',
      message: "must be 1 to 128 letters, digits, '.', '_' or '-', starting with a letter or digit",
    });
  }
});

// ---------------------------------------------------------------------------------------------
// Failure strategies (SPEC section 4)

const RETRY_ONLY_FIELDS = ['retryCount', 'retryIntervalsMs', 'onRetryFailure'] as const;
const INTERVENTION_ONLY_FIELDS = ['timeoutMs', 'onTimeout'] as const;

/**
 * A failure-strategy rule. Fields that belong to another action (`retryCount` on an `abort` rule)
 * are errors: they would be silently meaningless, and usually mean the action is not the intended one.
 *
 * `retry` on `barrier-broken` / `barrier-timeout` is rejected (SPEC section 2 rule 5). A retry rule
 * matching `any` is accepted: "retry whatever fails" is a common, sensible rule, and
 * `resolveFailureAction` never lets it retry a barrier error (see model/failure-policy.ts).
 */
export const fileFailureRuleSchema = z
  .strictObject({
    on: z.array(errorTypeSchema).min(1, { error: 'expected at least one error type' }),
    action: z.enum(Actions),
    retryCount: z
      .number({ error: 'expected an integer from 1 to 1000' })
      .int({ error: 'expected an integer from 1 to 1000' })
      .min(1, { error: 'expected an integer from 1 to 1000' })
      .max(1000, { error: 'expected an integer from 1 to 1000' })
      .optional(),
    retryIntervalsMs: z.array(fileDurationMsSchema).min(1).optional(),
    onRetryFailure: fallbackActionSchema.optional(),
    timeoutMs: fileDurationMsSchema.optional(),
    onTimeout: interventionTimeoutActionSchema.optional(),
  })
  .superRefine((rule, ctx) => {
    if (rule.action === 'retry') {
      const final = rule.on.filter(isFinalErrorType);
      if (final.length > 0) {
        ctx.addIssue({
          code: 'custom',
          path: ['action'],
          message: `a retry action is not allowed for ${final.join(' or ')}: a barrier's outcome is final`,
        });
      }
    }
    for (const field of RETRY_ONLY_FIELDS) {
      if (rule[field] !== undefined && rule.action !== 'retry') {
        ctx.addIssue({ code: 'custom', path: [field], message: "only allowed with action 'retry'" });
      }
    }
    for (const field of INTERVENTION_ONLY_FIELDS) {
      if (rule[field] !== undefined && rule.action !== 'manual-intervention') {
        ctx.addIssue({
          code: 'custom',
          path: [field],
          message: "only allowed with action 'manual-intervention'",
        });
      }
    }
  })
  .meta({ id: 'failureRule', description: 'On these error types, take this action (SPEC section 4).' });
export type FileFailureRule = z.infer<typeof fileFailureRuleSchema>;

const failureStrategiesSchema = z
  .array(fileFailureRuleSchema)
  .describe(
    'Failure-strategy rules: the first rule whose `on` matches decides; step rules beat workflow rules beat pipeline rules.',
  );

// ---------------------------------------------------------------------------------------------
// Steps

/** `when: { var, equals }` or `when: { var, notEquals }`: exactly one comparison. */
export const whenSchema = z
  .strictObject({
    var: z.string().regex(VARIABLE_NAME_PATTERN, { error: 'expected a variable name' }),
    equals: textValueSchema.optional(),
    notEquals: textValueSchema.optional(),
  })
  .superRefine((when, ctx) => {
    if ((when.equals === undefined) === (when.notEquals === undefined)) {
      ctx.addIssue({ code: 'custom', message: 'expected exactly one of equals or notEquals' });
    }
  })
  .meta({
    id: 'when',
    description:
      'Run the step only when a variable equals (or does not equal) a value; a skipped step does not run.',
  });
export type WhenCondition = z.infer<typeof whenSchema>;

/**
 * A step's free-text description: kept in the plan, shown nowhere yet. Importers use it to say
 * where a step came from (e.g. its Harness path), so an operator can find the original.
 */
export const MAX_DESCRIPTION_LENGTH = 1024;
const descriptionSchema = z
  .string()
  .max(MAX_DESCRIPTION_LENGTH, { error: `must be at most ${MAX_DESCRIPTION_LENGTH} characters` })
  .regex(/^[^\u0000-\u001f\u007f]*$/, { error: 'must be one line without control characters' });

const stepCommonShape = {
  name: stepNameSchema,
  description: descriptionSchema.optional(),
  timeoutMs: fileDurationMsSchema.optional().describe('Milliseconds the step may take (1 to 30 days).'),
  when: whenSchema.optional(),
  failureStrategies: failureStrategiesSchema.optional(),
};

export const shellStepFileSchema = z
  .strictObject({
    ...stepCommonShape,
    type: z.literal('shell'),
    command: z
      .string()
      .min(1, { error: 'must not be empty' })
      .describe(
        'Run with /bin/sh -c on the worker; exit 0 is success. Each ${{ }} becomes one quoted shell word.',
      ),
    env: textRecord(ENV_NAME_PATTERN, 'environment variable', 'CONVOY_').optional(),
  })
  .meta({ id: 'shellStep', description: 'Runs a command with /bin/sh -c on the worker.' });

export const httpStepFileSchema = z
  .strictObject({
    ...stepCommonShape,
    type: z.literal('http'),
    // Accept `post` as well as `POST`; the plan always holds the upper-case form.
    method: z
      .string()
      .transform((method) => method.toUpperCase())
      .pipe(z.enum(HTTP_METHODS))
      .default('GET'),
    url: z.string().min(1, { error: 'must not be empty' }),
    headers: textRecord(HEADER_NAME_PATTERN, 'header').optional(),
    body: z.string().optional(),
    expectStatus: z
      .array(
        z
          .number({ error: 'expected an HTTP status code from 100 to 599' })
          .int({ error: 'expected an HTTP status code from 100 to 599' })
          .min(100, { error: 'expected an HTTP status code from 100 to 599' })
          .max(599, { error: 'expected an HTTP status code from 100 to 599' }),
      )
      .min(1, { error: 'expected at least one status code' })
      .default([200]),
  })
  .meta({ id: 'httpStep', description: 'Sends an HTTP request; succeeds on an expected status.' });

export const waitStepFileSchema = z
  .strictObject({
    ...stepCommonShape,
    type: z.literal('wait'),
    durationMs: fileDurationMsSchema.describe('How long to wait (a durable timer), in milliseconds.'),
  })
  .meta({ id: 'waitStep', description: 'Waits: a durable Temporal timer.' });

/**
 * A release train (issue 14): independently started pipelines whose barrier names the same train
 * and identifier cross it together, once each pipeline's own participants have.
 */
export const trainFileSchema = z
  .strictObject({
    name: nameSchema.describe('The train: pipelines naming the same train and barrier identifier meet.'),
    expect: z
      .array(nameSchema)
      .min(1, { error: 'expected at least one pipeline name' })
      .describe('The pipelines (their `name:`) that must arrive, this one included.'),
  })
  .meta({
    id: 'train',
    description: 'Makes the barrier a release train across independently started pipelines.',
  });
export type TrainFile = z.infer<typeof trainFileSchema>;

export const barrierStepFileSchema = z
  .strictObject({
    ...stepCommonShape,
    type: z.literal('barrier'),
    identifier: barrierIdentifierSchema.meta({
      description:
        'A literal (no expressions): the workflows of the stage whose steps name it cross it together.',
      // The check is the superRefine above, whose messages say what is wrong; editors get the pattern.
      pattern: BARRIER_IDENTIFIER_PATTERN.source,
    }),
    timeoutMs: fileDurationMsSchema
      .default(DEFAULT_BARRIER_TIMEOUT_MS)
      .describe('How long this participant waits at the barrier, from its arrival, before it times out.'),
    train: trainFileSchema.optional(),
  })
  .meta({
    id: 'barrierStep',
    description: 'Waits until every participant of the barrier in this stage has arrived.',
  });

export const pipelineStepFileSchema = z
  .strictObject({
    // The name is part of the child pipeline's workflow ID, so it follows the name rules.
    name: nameSchema,
    description: stepCommonShape.description,
    when: stepCommonShape.when,
    failureStrategies: stepCommonShape.failureStrategies,
    type: z.literal('pipeline'),
    file: z
      .string()
      .min(1, { error: 'must not be empty' })
      .regex(/^[^\u0000]*$/, { error: 'must not contain NUL characters' })
      .describe('The child pipeline file, relative to this file.'),
    variables: variablesSchema
      .optional()
      .describe(
        "Values for the child pipeline's declared variables; ${{ vars.NAME }} refers to this workflow's.",
      ),
  })
  .meta({
    id: 'pipelineStep',
    description:
      "Runs another pipeline file as a child pipeline; its barrier steps named parent.ID join this stage's barrier ID.",
  });

export type PipelineStepFile = z.infer<typeof pipelineStepFileSchema>;

/** A step that runs on its own: what a branch holds (no parallel steps, no child pipelines). */
export const stepFileSchema = z.discriminatedUnion('type', [
  shellStepFileSchema,
  httpStepFileSchema,
  waitStepFileSchema,
  barrierStepFileSchema,
]);
export type StepFile = z.infer<typeof stepFileSchema>;

/** One branch of a parallel step: a name unique in the workflow and its steps, run in order. */
export const branchFileSchema = z
  .strictObject({
    name: nameSchema.describe(
      'Unique in the workflow; a barrier step in the branch makes it a participant named <workflow>/<branch>.',
    ),
    steps: z
      .array(stepFileSchema)
      .min(1, { error: 'expected at least one step' })
      .describe(
        'Run in order: shell, http, wait and barrier steps (no nested parallel steps, no child pipelines).',
      ),
  })
  .meta({ id: 'branch', description: 'A branch of a parallel step.' });
export type BranchFile = z.infer<typeof branchFileSchema>;

export const parallelStepFileSchema = z
  .strictObject({
    name: stepNameSchema,
    description: descriptionSchema.optional(),
    when: whenSchema.optional(),
    type: z.literal('parallel'),
    branches: z
      .array(branchFileSchema)
      .min(1, { error: 'expected at least one branch' })
      .describe('Run concurrently; the step succeeds when every branch has.'),
  })
  .meta({
    id: 'parallelStep',
    description:
      'Runs branches concurrently inside the workflow; a failing branch cancels the others and ends the step.',
  });
export type ParallelStepFile = z.infer<typeof parallelStepFileSchema>;

/** A step of a workflow's `steps`: any step type, parallel and pipeline steps included. */
export const workflowStepFileSchema = z.discriminatedUnion('type', [
  shellStepFileSchema,
  httpStepFileSchema,
  waitStepFileSchema,
  barrierStepFileSchema,
  pipelineStepFileSchema,
  parallelStepFileSchema,
]);
export type WorkflowStepFile = z.infer<typeof workflowStepFileSchema>;

/** Rollback steps: no barriers (SPEC section 2 rule 4); the message says so (see `describeIssue`). */
export const rollbackStepFileSchema = z.discriminatedUnion('type', [
  shellStepFileSchema,
  httpStepFileSchema,
  waitStepFileSchema,
]);
export type RollbackStepFile = z.infer<typeof rollbackStepFileSchema>;

// ---------------------------------------------------------------------------------------------
// Workflows, stages, pipeline

/** forEach items become part of workflow names (`payments[eu]`), so they follow the name rules. */
const forEachItemSchema = z
  .union([z.string(), z.number()], { error: 'expected a string or a number' })
  .transform((item) => String(item))
  .pipe(
    z
      .string()
      .min(1, { error: 'must not be empty' })
      .max(MAX_NAME_LENGTH, { error: `must be at most ${MAX_NAME_LENGTH} characters` })
      .regex(NAME_PATTERN, {
        error: "must start with a letter or digit and contain only letters, digits, '.', '_' and '-'",
      }),
  );

export const workflowFileSchema = z
  .strictObject({
    name: nameSchema,
    variables: variablesSchema.optional(),
    forEach: z
      .array(forEachItemSchema)
      .min(1, { error: 'expected at least one item' })
      .optional()
      .describe('One workflow per item, named name[item]; the item is ${{ vars.item }}.'),
    failureStrategies: failureStrategiesSchema.optional(),
    steps: z
      .array(workflowStepFileSchema)
      .min(1, { error: 'expected at least one step' })
      .describe('Run in order: shell, http, wait, barrier, pipeline and parallel steps.'),
    rollbackSteps: z
      .array(rollbackStepFileSchema)
      .optional()
      .describe('Run in order when the rollback action fires; no barrier steps.'),
  })
  .meta({
    id: 'workflow',
    description: 'A workflow: its steps run in order, in one Temporal child workflow.',
  });
export type WorkflowFile = z.infer<typeof workflowFileSchema>;

export const stageFileSchema = z
  .strictObject({
    name: nameSchema,
    workflows: z
      .array(workflowFileSchema)
      .min(1, { error: 'expected at least one workflow' })
      .describe("The stage's workflows: they start together and run in parallel."),
  })
  .meta({ id: 'stage', description: 'A stage: its workflows run in parallel.' });
export type StageFile = z.infer<typeof stageFileSchema>;

/** A whole pipeline file (SPEC section 1). */
export const pipelineFileSchema = z.strictObject({
  name: nameSchema,
  variables: variablesSchema.optional(),
  secrets: secretsSchema.optional(),
  failureStrategies: failureStrategiesSchema.optional(),
  stages: z
    .array(stageFileSchema)
    .min(1, { error: 'expected at least one stage' })
    .describe('Run one after another; a stage starts only when every workflow of the one before succeeded.'),
});
export type PipelineFile = z.infer<typeof pipelineFileSchema>;

// ---------------------------------------------------------------------------------------------
// Parsing with readable messages

/** The outcome of checking plain data against the file schema. */
export type FileParseResult = { ok: true; file: PipelineFile } | { ok: false; issues: ValidationIssue[] };

/**
 * Checks plain data (from `load.ts`) against {@link pipelineFileSchema}. Every field-level problem
 * is reported, not just the first. Never throws.
 */
export function parsePipelineFile(data: unknown): FileParseResult {
  const result = pipelineFileSchema.safeParse(defuseLengths(data), { reportInput: true });
  if (result.success) return { ok: true, file: result.data };
  const issues: ValidationIssue[] = [];
  for (const issue of result.error.issues) issues.push(...describeIssue(issue));
  return { ok: false, issues };
}

/**
 * zod runs a string's or list's length checks even on a value that failed the type check, when it
 * has a `length`, and compares that `length` with a number: an object or a list there
 * (`name: {length: {}}`, `name: {length: [{}]}`) makes the comparison throw, null-prototype
 * objects from the loader and objects whose `valueOf` is not a function alike. No field of the format
 * is called `length`, so in a copy of the data such a value becomes undefined, which zod's checks
 * skip: the field is still reported (unknown field, or a wrong type where a string or list was
 * expected). The copy's mappings are ordinary objects, as `JSON.parse` makes them: zod names the
 * type of an object with another prototype by its `constructor.name`, and the loader's
 * null-prototype mappings would let a `constructor` key choose that name (CI's fuzzing found
 * `name: {constructor: {name: {}}}` throwing there). Cycles and extreme depth are left as they are:
 * the loader never produces them, and zod reports an object given in code as it is.
 */
function defuseLengths(data: unknown, depth = 0, seen = new Set<object>()): unknown {
  if (data === null || typeof data !== 'object' || depth > 1000 || seen.has(data)) return data;
  seen.add(data);
  try {
    if (Array.isArray(data)) return data.map((item) => defuseLengths(item, depth + 1, seen));
    const copy: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(data)) {
      const value =
        key === 'length' && item !== null && typeof item === 'object'
          ? undefined
          : defuseLengths(item, depth + 1, seen);
      // defineProperty, so that a `__proto__` key given in code stays a key, never the prototype.
      Object.defineProperty(copy, key, { value, enumerable: true, writable: true, configurable: true });
    }
    return copy;
  } finally {
    seen.delete(data);
  }
}

/** Every field name the format knows, for "did you mean" hints on unknown fields. */
const KNOWN_FIELDS: readonly string[] = [
  ...new Set([
    ...Object.keys(pipelineFileSchema.shape),
    ...Object.keys(stageFileSchema.shape),
    ...Object.keys(workflowFileSchema.shape),
    ...Object.keys(shellStepFileSchema.shape),
    ...Object.keys(httpStepFileSchema.shape),
    ...Object.keys(waitStepFileSchema.shape),
    ...Object.keys(barrierStepFileSchema.shape),
    ...Object.keys(parallelStepFileSchema.shape),
    ...Object.keys(branchFileSchema.shape),
    ...Object.keys(pipelineStepFileSchema.shape),
    ...Object.keys(fileFailureRuleSchema.shape),
    ...Object.keys(whenSchema.shape),
    ...Object.keys(secretSourceFileSchema.shape),
    ...Object.keys(trainFileSchema.shape),
  ]),
];

/** Translates one zod issue into one or more of ours (one per unknown key). */
function describeIssue(issue: z.core.$ZodIssue): ValidationIssue[] {
  const at = issue.path as PathSegment[];
  const input = (issue as { input?: unknown }).input;
  switch (issue.code) {
    case 'unrecognized_keys':
      return issue.keys.map((key) => ({
        path: formatPath([...at, key]),
        message: `unknown field${didYouMean(key)}`,
      }));
    case 'invalid_union': {
      // A discriminated union whose `type` matched nothing: an unknown or missing step type.
      if ((issue as { note?: string }).note === 'No matching discriminator') {
        return [{ path: formatPath(at), message: describeStepType(at, input) }];
      }
      return [{ path: formatPath(at), message: issue.message }];
    }
    case 'invalid_type':
      // A missing field reads "missing required field" even where the schema has its own message.
      if (input === undefined) return [{ path: formatPath(at), message: 'missing required field' }];
      if (isCustomMessage(issue)) return [{ path: formatPath(at), message: issue.message }];
      return [{ path: formatPath(at), message: describeTypeProblem(issue.expected, input) }];
    case 'invalid_value':
      return [
        {
          path: formatPath(at),
          message: `expected one of ${issue.values.map(String).join(', ')}${describeGot(input)}`,
        },
      ];
    case 'invalid_key': {
      const inner = issue.issues[0];
      return [{ path: formatPath(at), message: inner ? inner.message : 'invalid key' }];
    }
    case 'too_small':
      if (isCustomMessage(issue)) return [{ path: formatPath(at), message: issue.message }];
      return [{ path: formatPath(at), message: describeBound('at least', issue.origin, issue.minimum) }];
    case 'too_big':
      if (isCustomMessage(issue)) return [{ path: formatPath(at), message: issue.message }];
      return [{ path: formatPath(at), message: describeBound('at most', issue.origin, issue.maximum) }];
    default:
      return [{ path: formatPath(at), message: issue.message }];
  }
}

/**
 * Zod's own English messages start with "Invalid input"/"Too small"/"Too big"; ours (set on the
 * schemas above) never do. This tells the two apart without keeping a list of our messages.
 */
function isCustomMessage(issue: { message: string }): boolean {
  return !/^(Invalid|Too small|Too big)/.test(issue.message);
}

function describeStepType(at: PathSegment[], input: unknown): string {
  const inRollback = at.includes('rollbackSteps');
  const inBranch = at.includes('branches');
  const expected = STEP_TYPES.filter(
    (type) =>
      !(inRollback && (type === 'barrier' || type === 'parallel' || type === 'pipeline')) &&
      !(inBranch && (type === 'parallel' || type === 'pipeline')),
  );
  const type = isRecord(input) ? input['type'] : undefined;
  if (type === undefined) return `missing step type; expected one of ${expected.join(', ')}`;
  if (inRollback && (type === 'barrier' || type === 'parallel' || type === 'pipeline'))
    return `${type} steps are not allowed in rollbackSteps`;
  if (inBranch && type === 'parallel') return 'parallel steps cannot be nested in a branch';
  if (inBranch && type === 'pipeline') return 'pipeline steps cannot run in a branch';
  if (typeof type !== 'string') return `expected a step type, one of ${expected.join(', ')}`;
  return `unknown step type '${type}'; expected one of ${expected.join(', ')}`;
}

function describeTypeProblem(expected: string, input: unknown): string {
  if (input === undefined) return 'missing required field';
  const expectedText: Record<string, string> = {
    object: 'a mapping',
    array: 'a list',
    string: 'a string',
    number: 'a number',
    boolean: 'true or false',
  };
  return `expected ${expectedText[expected] ?? expected}${describeGot(input)}`;
}

function describeGot(input: unknown): string {
  if (input === undefined) return '';
  if (input === null) return ', got null';
  if (Array.isArray(input)) return ', got a list';
  if (typeof input === 'object') return ', got a mapping';
  if (typeof input === 'string') return `, got '${truncate(input)}'`;
  return `, got ${String(input)}`;
}

function describeBound(relation: string, origin: string, bound: number | bigint): string {
  if (origin === 'array' || origin === 'set') {
    return `expected ${relation} ${bound} item${bound === 1 ? '' : 's'}`;
  }
  if (origin === 'string') {
    return bound === 1 && relation === 'at least'
      ? 'must not be empty'
      : `must be ${relation} ${bound} characters`;
  }
  return `must be ${relation} ${bound}`;
}

function didYouMean(key: string): string {
  let best: string | undefined;
  let bestDistance = 3; // farther than 2 edits is a different word, not a typo
  for (const known of KNOWN_FIELDS) {
    const distance = editDistance(key.toLowerCase(), known.toLowerCase());
    if (distance < bestDistance) {
      best = known;
      bestDistance = distance;
    }
  }
  if (best === undefined) return ` '${truncate(key)}'`;
  // A field the format knows, in a place that does not take it (e.g. `timeoutMs` on a parallel step).
  if (bestDistance === 0) return ` '${truncate(key)}' (not allowed here)`;
  return ` '${truncate(key)}'; did you mean '${best}'?`;
}

/** Edit distance, for typo hints only; keys of very different length or absurd size are no typo. */
function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 2 || a.length > 64) return Number.POSITIVE_INFINITY;
  return levenshtein(a, b);
}

function truncate(text: string): string {
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
