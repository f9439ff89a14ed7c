/**
 * The `shell` step executor: runs `/bin/sh -c command` on the worker as a real child process.
 *
 * Life of a call:
 * 1. validate the input (it was serialized by a workflow, possibly an older one);
 * 2. spawn the command as the leader of its own process group, under a watchdog that kills the
 *    group if the worker dies (see ./supervisor), with the worker's environment plus the step's
 *    `env` (which carries `CONVOY_VAR_<NAME>` for every variable);
 * 3. keep the last bytes of stdout and stderr, heartbeat while it runs;
 * 4. end on the first of: the command exits, the activity is cancelled, the step's `timeoutMs`;
 * 5. in every case make sure nothing of the group keeps running (see {@link terminateProcessGroup});
 * 6. return on exit code 0, otherwise throw a non-retryable `step-failed` / `step-timeout`
 *    failure, or rethrow Temporal's cancellation.
 */
import type { ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';
import { Context, type Info } from '@temporalio/activity';
import type { ApplicationFailure } from '@temporalio/common';
import {
  ACTIVITY_DEFAULTS,
  shellActivityInputSchema,
  type ActivityTuning,
  type ShellActivityInput,
  type ShellActivityResult,
  type ShellFailureDetails,
} from '../model/step-activities';
import {
  forgetAttempt,
  recordAttempt,
  STEP_KEY_VARIABLE,
  stepKey,
  stepStateDir,
  waitForEarlierAttempt,
  type StepAttempt,
} from './attempt-guard';
import {
  cancellationError,
  describeError,
  lastChars,
  parseActivityInput,
  stepFailed,
  stepTimedOut,
} from './errors';
import { startHeartbeats } from './heartbeat';
import { terminateProcessGroup, TerminationOutcomes } from './process-group';
import { spawnSupervised, type SupervisedProcess } from './supervisor';
import type { z } from 'zod';
import { secretEnvName, substituteSecrets } from '../model/secrets';
import { MaskedTail } from './secret-mask';
import { type ResolvedSecrets, withStepSecrets } from './secrets';

/**
 * After the process group is gone, how long to wait for the stdout/stderr pipes to close. They
 * normally close at once; a process that escaped the group (`setsid`, a daemon) can hold them
 * open forever, and the step must not hang on it.
 */
const OUTPUT_DRAIN_MS = 1_000;

/** How much output an error message quotes; the full tails are in the failure details. */
const MESSAGE_OUTPUT_CHARS = 1_000;

/** How waiting for the command ended. */
type Outcome =
  | { kind: 'exited'; exitCode: number | null; signal: NodeJS.Signals | null }
  | { kind: 'spawn-error'; error: Error }
  | { kind: 'cancelled' }
  | { kind: 'timed-out'; timeoutMs: number };

/** Shell-only knobs of {@link createShellActivity}. */
export interface ShellTuning {
  /** Where attempts record their process groups; {@link stepStateDir} by default. */
  stepStateDir: string;
}

/** The signature of the shell step activity. */
export type RunShell = (input: ShellActivityInput) => Promise<ShellActivityResult>;

/**
 * Builds the shell step activity. Production uses the defaults; tests pass shorter intervals.
 *
 * @param tuning overrides of {@link ACTIVITY_DEFAULTS} (heartbeat interval, kill grace, tail size)
 *   and of where attempts are recorded
 */
export function createShellActivity(tuning: Partial<ActivityTuning & ShellTuning> = {}): RunShell {
  const { heartbeatIntervalMs, killGraceMs, tailBytes } = { ...ACTIVITY_DEFAULTS, ...tuning };

  return async function runShell(rawInput: ShellActivityInput): Promise<ShellActivityResult> {
    const input = parseActivityInput(shellActivityInputSchema, rawInput, 'runShell');
    const context = Context.current();
    const { cancellationSignal } = context;
    // Do not start anything for a step that was cancelled before it began.
    if (cancellationSignal.aborted) throw cancellationError(cancellationSignal);

    const stepLabel = `shell step "${input.stepName}" of workflow "${input.workflowName}"`;
    return withStepSecrets(input.secrets, stepLabel, NOT_STARTED, (secrets) =>
      run(input, stepLabel, secrets),
    );
  };

  async function run(
    input: ShellInput,
    stepLabel: string,
    secrets: ResolvedSecrets,
  ): Promise<ShellActivityResult> {
    const context = Context.current();
    const { cancellationSignal } = context;
    const stdout = new MaskedTail(tailBytes, secrets.mask);
    const stderr = new MaskedTail(tailBytes, secrets.mask);
    const startedAt = Date.now();
    const attempt = stepAttemptOf(context.info);
    const stateDir = tuning.stepStateDir ?? stepStateDir();

    // From the start: waiting for an earlier attempt must not look like a dead worker either.
    const stopHeartbeats = startHeartbeats(heartbeatIntervalMs, () => ({
      elapsedMs: Date.now() - startedAt,
      stdoutBytes: stdout.totalBytes,
      stderrBytes: stderr.totalBytes,
    }));
    let link: Socket | undefined;
    let waited: string | undefined;
    let outcome: Outcome;
    try {
      waited = await waitForEarlierAttempt(stateDir, attempt, {
        killGraceMs,
        signal: cancellationSignal,
      }).catch((error: unknown) => {
        if (cancellationSignal.aborted) throw cancellationError(cancellationSignal);
        throw notStarted(`${stepLabel} could not end an earlier attempt: ${describeError(error)}`);
      });
      if (waited !== undefined) context.log.warn(`${stepLabel}: ${waited}`);
      if (cancellationSignal.aborted) throw cancellationError(cancellationSignal);

      let supervised: SupervisedProcess;
      try {
        supervised = spawnSupervised(input.command, {
          cwd: input.cwd,
          env: {
            ...process.env,
            ...stepEnvironment(input.env, secrets.values),
            [STEP_KEY_VARIABLE]: stepKey(attempt),
          },
          killGraceMs,
        });
      } catch (error) {
        // spawn throws synchronously for arguments the OS cannot take (a NUL byte in the command
        // or the env); it is the step that cannot run, like a missing working directory below.
        throw notStarted(`${stepLabel} could not start /bin/sh: ${describeError(error)}`);
      }
      const { child } = supervised;
      link = supervised.link;
      if (child.pid !== undefined)
        record(stateDir, attempt, child.pid, (message) => context.log.warn(message));
      child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
      child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
      const outputClosed = new Promise<void>((resolve) => child.once('close', () => resolve()));

      outcome = await waitForOutcome(child, cancellationSignal, input.timeoutMs);
      if (child.pid !== undefined) {
        // After a cancellation or timeout this is the kill itself. After a normal exit it ends
        // background processes the command left behind, as CI runners do: a finished step owns
        // nothing that still runs on the worker.
        const termination = await terminateProcessGroup(child.pid, killGraceMs);
        if (termination === TerminationOutcomes.survived) {
          context.log.warn(`${stepLabel}: processes of group ${child.pid} survived SIGKILL`);
        } else {
          forgetAttempt(stateDir, attempt, child.pid);
        }
      }
      // Only now: closing the watchdog's pipe while the group runs would make it kill the group.
      link.destroy();
      await waitForOutput(child, outputClosed);
    } finally {
      // Heartbeats continue through the kill grace above, so a slow kill never looks like a dead
      // worker.
      stopHeartbeats();
      // If the kill itself failed, the watchdog (which sees the pipe close) tries again.
      link?.destroy();
    }

    const output = { stdoutTail: stdout.toString(), stderrTail: stderr.toString() };
    // The step's result says when this attempt had to wait for an earlier one; messages quote
    // only the command's own output.
    const reported =
      waited === undefined ? output : { ...output, stderrTail: `${waited}\n${output.stderrTail}` };
    switch (outcome.kind) {
      case 'exited': {
        if (outcome.exitCode === 0) return { exitCode: 0, ...reported };
        const details: ShellFailureDetails = { exitCode: outcome.exitCode, ...reported };
        const how =
          outcome.exitCode !== null
            ? `failed with exit code ${outcome.exitCode}`
            : `was killed by signal ${outcome.signal ?? 'unknown'}`;
        throw stepFailed(withOutputExcerpt(`${stepLabel} ${how}`, output), details);
      }
      case 'spawn-error': {
        const where = input.cwd !== undefined ? ` in ${input.cwd}` : '';
        const details: ShellFailureDetails = { exitCode: null, ...reported };
        throw stepFailed(
          `${stepLabel} could not start /bin/sh${where}: ${describeError(outcome.error)}`,
          details,
        );
      }
      case 'timed-out': {
        const details: ShellFailureDetails = { exitCode: null, ...reported };
        const message = `${stepLabel} timed out after ${outcome.timeoutMs} ms; its process group was killed`;
        throw stepTimedOut(withOutputExcerpt(message, output), details);
      }
      case 'cancelled':
        throw cancellationError(cancellationSignal);
    }
  }
}

/** The step's input, validated. */
type ShellInput = z.output<typeof shellActivityInputSchema>;

/**
 * The step's own environment with its secrets in place: `${{ secrets.NAME }}` in `env` values,
 * and `CONVOY_SECRET_<NAME>` for each, which the command reads its secrets from.
 */
function stepEnvironment(
  env: Readonly<Record<string, string>>,
  secrets: ReadonlyMap<string, string>,
): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) result[name] = substituteSecrets(value, secrets);
  for (const [name, value] of secrets) result[secretEnvName(name)] = value;
  return result;
}

const NOT_STARTED: ShellFailureDetails = { exitCode: null, stdoutTail: '', stderrTail: '' };

/** The shell step activity with production settings. */
export const runShell: RunShell = createShellActivity();

/** The failure of a step whose command never started. */
function notStarted(message: string): ApplicationFailure {
  return stepFailed(message, NOT_STARTED);
}

/** Which attempt of which step this is, from the activity's info. */
function stepAttemptOf(info: Info): StepAttempt {
  return {
    namespace: info.namespace,
    workflowId: info.workflowExecution?.workflowId ?? '',
    runId: info.workflowExecution?.runId ?? info.activityRunId ?? '',
    activityId: info.activityId,
    attempt: info.attempt,
  };
}

/**
 * Records the attempt's group for the same-host guard. A failure to write (a full or read-only
 * disk) costs only the guard, for this attempt: the step runs on and the reason is logged.
 */
function record(dir: string, attempt: StepAttempt, pgid: number, warn: (message: string) => void): void {
  try {
    recordAttempt(dir, attempt, pgid);
  } catch (error) {
    warn(`could not record process group ${pgid} in ${dir}: ${describeError(error)}`);
  }
}

/** Resolves with the first of: exit, spawn failure, cancellation, the step's own timeout. */
function waitForOutcome(
  child: ChildProcess,
  signal: AbortSignal,
  timeoutMs: number | undefined,
): Promise<Outcome> {
  return new Promise<Outcome>((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    let settled = false;
    const finish = (outcome: Outcome): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      resolve(outcome);
    };
    const onAbort = (): void => finish({ kind: 'cancelled' });

    // The child's listeners stay attached: an 'error' event without a listener would crash the
    // worker, and `finish` ignores everything after the first outcome.
    child.on('exit', (exitCode, exitSignal) => finish({ kind: 'exited', exitCode, signal: exitSignal }));
    child.on('error', (error) => finish({ kind: 'spawn-error', error }));
    signal.addEventListener('abort', onAbort, { once: true });
    if (timeoutMs !== undefined) {
      timer = setTimeout(() => finish({ kind: 'timed-out', timeoutMs }), timeoutMs);
    }
  });
}

/** Waits (bounded) for the output pipes to close so the tails include the last bytes written. */
async function waitForOutput(child: ChildProcess, outputClosed: Promise<void>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const giveUp = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, OUTPUT_DRAIN_MS);
  });
  await Promise.race([outputClosed, giveUp]);
  clearTimeout(timer);
  child.stdout?.destroy();
  child.stderr?.destroy();
}

/**
 * Appends the end of the output to a failure message: stderr when there is any, since that is
 * where tools write errors, else stdout, since many deploy scripts write everything there.
 */
function withOutputExcerpt(message: string, output: { stdoutTail: string; stderrTail: string }): string {
  const stderr = output.stderrTail.trimEnd();
  if (stderr !== '') return `${message}; stderr: ${lastChars(stderr, MESSAGE_OUTPUT_CHARS)}`;
  const stdout = output.stdoutTail.trimEnd();
  if (stdout !== '') return `${message}; stdout: ${lastChars(stdout, MESSAGE_OUTPUT_CHARS)}`;
  return message;
}
