/**
 * The shell step activity, run for real: every test spawns `/bin/sh` and inspects real processes.
 */
import { existsSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CancelledFailure } from '@temporalio/common';
import {
  ActivityErrorTypes,
  createShellActivity,
  runShell,
  type ShellActivityInput,
} from '../../../src/activities';
import {
  delay,
  expectApplicationFailure,
  liveGroupMembers,
  newActivityEnvironment,
  rejectionOf,
  runActivity,
  waitForFile,
  waitUntilGroupGone,
} from './helpers';

jest.setTimeout(30_000);

let scratch: string;
beforeEach(() => {
  scratch = mkdtempSync(join(tmpdir(), 'convoy-shell-'));
});
afterEach(() => {
  rmSync(scratch, { recursive: true, force: true });
});

function shellInput(command: string, extra: Partial<ShellActivityInput> = {}): ShellActivityInput {
  return { command, env: {}, workflowName: 'payments', stepName: 'deploy', ...extra };
}

/**
 * A command whose process group outlives a plain kill of `/bin/sh`: two background sleeps and
 * a `wait`. It writes its pgid ($$ is the group leader's pid, since the activity starts it
 * detached) to PGID_FILE so the test can watch the group.
 */
const LONG_RUNNING_GROUP = 'echo $$ > "$PGID_FILE"; sleep 30 & sleep 30 & wait';

describe('runShell: exit status and output', () => {
  it('returns exit code 0 and the stdout and stderr tails on success', async () => {
    const { env } = newActivityEnvironment();
    const result = await runActivity(env, runShell, shellInput('echo hello; echo "a warning" >&2'));
    expect(result).toEqual({ exitCode: 0, stdoutTail: 'hello\n', stderrTail: 'a warning\n' });
  });

  it('fails with a non-retryable step-failed carrying the exit code and the stderr tail', async () => {
    const { env } = newActivityEnvironment();
    const failure = await expectApplicationFailure(
      runActivity(env, runShell, shellInput('echo "rolling out"; echo "error: disk full" >&2; exit 3')),
    );
    expect(failure.type).toBe(ActivityErrorTypes.stepFailed);
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain('shell step "deploy" of workflow "payments"');
    expect(failure.message).toContain('exit code 3');
    expect(failure.message).toContain('error: disk full');
    expect(failure.details).toEqual([
      { exitCode: 3, stdoutTail: 'rolling out\n', stderrTail: 'error: disk full\n' },
    ]);
  });

  it('quotes stdout in the message when the failing command wrote nothing to stderr', async () => {
    const { env } = newActivityEnvironment();
    const failure = await expectApplicationFailure(
      runActivity(env, runShell, shellInput('echo "helm: release failed"; exit 1')),
    );
    expect(failure.message).toContain('stdout: helm: release failed');
  });

  it('reports a command killed by a signal as step-failed with a null exit code', async () => {
    const { env } = newActivityEnvironment();
    const failure = await expectApplicationFailure(runActivity(env, runShell, shellInput('kill -KILL $$')));
    expect(failure.type).toBe(ActivityErrorTypes.stepFailed);
    expect(failure.message).toContain('signal SIGKILL');
    expect(failure.details).toEqual([{ exitCode: null, stdoutTail: '', stderrTail: '' }]);
  });

  it('keeps only the last 4 KiB of a large output', async () => {
    const { env } = newActivityEnvironment();
    const result = await runActivity(
      env,
      runShell,
      shellInput('yes | head -c 1000000; yes e | head -c 1000000 >&2; echo END; echo END-ERR >&2'),
    );
    expect(Buffer.byteLength(result.stdoutTail)).toBe(4096);
    expect(Buffer.byteLength(result.stderrTail)).toBe(4096);
    expect(result.stdoutTail.endsWith('y\ny\nEND\n')).toBe(true);
    expect(result.stderrTail.endsWith('e\ne\nEND-ERR\n')).toBe(true);
  });

  it('bounds the output tail kept for a failure too', async () => {
    const { env } = newActivityEnvironment();
    const failure = await expectApplicationFailure(
      runActivity(env, runShell, shellInput('yes oops | head -c 500000 >&2; exit 9')),
    );
    const [details] = failure.details as [{ exitCode: number; stderrTail: string }];
    expect(details.exitCode).toBe(9);
    expect(Buffer.byteLength(details.stderrTail)).toBe(4096);
    // The message quotes only the end of the tail.
    expect(failure.message.length).toBeLessThan(1_200);
  });
});

describe('runShell: environment and working directory', () => {
  it('passes the step env (CONVOY_VAR_*) to the process verbatim, on top of the worker env', async () => {
    const { env } = newActivityEnvironment();
    process.env.CONVOY_TEST_WORKER_VAR = 'from-worker';
    process.env.CONVOY_TEST_OVERRIDDEN = 'worker-value';
    try {
      const result = await runActivity(
        env,
        runShell,
        shellInput(
          'printf "%s|%s|%s|%s" "$CONVOY_VAR_X" "$CONVOY_VAR_REGION" "$CONVOY_TEST_WORKER_VAR" "$CONVOY_TEST_OVERRIDDEN"',
          {
            env: {
              CONVOY_VAR_X: '1.4.2',
              CONVOY_VAR_REGION: "eu west; $(rm -rf /) 'quoted'",
              CONVOY_TEST_OVERRIDDEN: 'step-value',
            },
          },
        ),
      );
      expect(result.stdoutTail).toBe("1.4.2|eu west; $(rm -rf /) 'quoted'|from-worker|step-value");
    } finally {
      delete process.env.CONVOY_TEST_WORKER_VAR;
      delete process.env.CONVOY_TEST_OVERRIDDEN;
    }
  });

  it('runs in the given working directory', async () => {
    const { env } = newActivityEnvironment();
    const result = await runActivity(env, runShell, shellInput('pwd -P', { cwd: scratch }));
    expect(result.stdoutTail.trim()).toBe(realpathSync(scratch));
  });

  it('fails with step-failed when the process cannot start (missing working directory)', async () => {
    const { env } = newActivityEnvironment();
    const missing = join(scratch, 'does-not-exist');
    const failure = await expectApplicationFailure(
      runActivity(env, runShell, shellInput('true', { cwd: missing })),
    );
    expect(failure.type).toBe(ActivityErrorTypes.stepFailed);
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain('could not start');
    expect(failure.message).toContain(missing);
  });
  it('fails with step-failed when the OS cannot take the command (a NUL byte)', async () => {
    const { env } = newActivityEnvironment();
    const failure = await expectApplicationFailure(runActivity(env, runShell, shellInput('echo a\0b')));
    expect(failure.type).toBe(ActivityErrorTypes.stepFailed);
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain('could not start /bin/sh');
    expect(failure.details).toEqual([{ exitCode: null, stdoutTail: '', stderrTail: '' }]);
  });
});

describe('runShell: timeout and cancellation kill the whole process group', () => {
  it('on its own timeoutMs: fails with step-timeout and leaves no process of the group alive', async () => {
    const { env } = newActivityEnvironment();
    const pgidFile = join(scratch, 'pgid');
    const started = Date.now();
    const running = runActivity(
      env,
      runShell,
      shellInput(LONG_RUNNING_GROUP, { env: { PGID_FILE: pgidFile }, timeoutMs: 1_000 }),
    );
    const pgid = Number(await waitForFile(pgidFile));
    // Before the timeout the leader and both sleeps are running in that group.
    await delay(200);
    expect(liveGroupMembers(pgid).length).toBeGreaterThanOrEqual(3);

    const failure = await expectApplicationFailure(running);
    const elapsed = Date.now() - started;
    expect(failure.type).toBe(ActivityErrorTypes.stepTimeout);
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain('timed out after 1000 ms');
    expect(failure.details).toEqual([{ exitCode: null, stdoutTail: '', stderrTail: '' }]);
    // The sleeps die on SIGTERM, so no kill grace is spent.
    expect(elapsed).toBeGreaterThanOrEqual(1_000);
    expect(elapsed).toBeLessThan(2_500);

    // When the activity throws, nothing of the group runs any more...
    expect(liveGroupMembers(pgid)).toEqual([]);
    // ...and once the orphaned zombies are reaped, the kernel has no such group at all.
    expect(await waitUntilGroupGone(pgid)).toBe(true);
  });

  it('on cancellation: kills the group and rethrows the CancelledFailure', async () => {
    const { env } = newActivityEnvironment();
    const pgidFile = join(scratch, 'pgid');
    const running = runActivity(
      env,
      runShell,
      shellInput(LONG_RUNNING_GROUP, { env: { PGID_FILE: pgidFile } }),
    );
    const pgid = Number(await waitForFile(pgidFile));
    await delay(200);
    expect(liveGroupMembers(pgid).length).toBeGreaterThanOrEqual(3);

    env.cancel();
    const error = await rejectionOf(running);
    expect(error).toBeInstanceOf(CancelledFailure);
    expect(liveGroupMembers(pgid)).toEqual([]);
    expect(await waitUntilGroupGone(pgid)).toBe(true);
  });

  it('sends SIGKILL after the grace period to processes that ignore SIGTERM', async () => {
    const { env } = newActivityEnvironment();
    const runStubbornShell = createShellActivity({ killGraceMs: 300 });
    const pgidFile = join(scratch, 'pgid');
    // An ignored signal stays ignored in children, so neither sh nor sleep reacts to SIGTERM.
    const command = `trap '' TERM; ${LONG_RUNNING_GROUP}`;
    const started = Date.now();
    const running = runActivity(
      env,
      runStubbornShell,
      shellInput(command, { env: { PGID_FILE: pgidFile }, timeoutMs: 500 }),
    );
    const pgid = Number(await waitForFile(pgidFile));

    const failure = await expectApplicationFailure(running);
    expect(failure.type).toBe(ActivityErrorTypes.stepTimeout);
    expect(Date.now() - started).toBeGreaterThanOrEqual(500 + 300);
    expect(liveGroupMembers(pgid)).toEqual([]);
    expect(await waitUntilGroupGone(pgid)).toBe(true);
  });

  it('does not start anything when the activity is already cancelled', async () => {
    const { env } = newActivityEnvironment();
    const marker = join(scratch, 'ran');
    env.cancel();
    const error = await rejectionOf(
      runActivity(env, runShell, shellInput('touch "$MARKER"', { env: { MARKER: marker } })),
    );
    expect(error).toBeInstanceOf(CancelledFailure);
    await delay(200);
    expect(existsSync(marker)).toBe(false);
  });

  it('ends background processes a successful command left behind, without waiting for them', async () => {
    const { env } = newActivityEnvironment();
    const pgidFile = join(scratch, 'pgid');
    const started = Date.now();
    // The background sleep inherits stdout: a naive implementation would wait 30 s for EOF.
    const result = await runActivity(
      env,
      runShell,
      shellInput('echo $$ > "$PGID_FILE"; sleep 30 & echo started', { env: { PGID_FILE: pgidFile } }),
    );
    expect(result).toEqual({ exitCode: 0, stdoutTail: 'started\n', stderrTail: '' });
    expect(Date.now() - started).toBeLessThan(3_000);
    const pgid = Number(await waitForFile(pgidFile));
    expect(liveGroupMembers(pgid)).toEqual([]);
    expect(await waitUntilGroupGone(pgid)).toBe(true);
  });
});

describe('runShell: heartbeats and input validation', () => {
  it('heartbeats while the command runs, with elapsed time and output sizes', async () => {
    const { env, heartbeats } = newActivityEnvironment();
    const run = createShellActivity({ heartbeatIntervalMs: 100 });
    await runActivity(env, run, shellInput('echo tick; sleep 0.6'));
    expect(heartbeats.length).toBeGreaterThanOrEqual(3);
    for (const beat of heartbeats) {
      expect(beat).toEqual({
        elapsedMs: expect.any(Number),
        stdoutBytes: expect.any(Number),
        stderrBytes: 0,
      });
    }
    const elapsed = heartbeats.map((beat) => (beat as { elapsedMs: number }).elapsedMs);
    expect(elapsed).toEqual([...elapsed].sort((a, b) => a - b));
    expect((heartbeats.at(-1) as { stdoutBytes: number }).stdoutBytes).toBe(5);
  });

  it('heartbeats about once a second with the production settings', async () => {
    const { env, heartbeats } = newActivityEnvironment();
    await runActivity(env, runShell, shellInput('sleep 1.3'));
    expect(heartbeats.length).toBeGreaterThanOrEqual(1);
    expect(heartbeats.length).toBeLessThanOrEqual(2);
  });

  it('rejects invalid input with a non-retryable step-failed naming the field', async () => {
    const { env } = newActivityEnvironment();
    const invalid = {
      env: {},
      workflowName: 'payments',
      stepName: 'deploy',
      timeoutMs: -5,
    } as unknown as ShellActivityInput;
    const failure = await expectApplicationFailure(runActivity(env, runShell, invalid));
    expect(failure.type).toBe(ActivityErrorTypes.stepFailed);
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain('invalid runShell input');
    expect(failure.message).toContain('command');
    expect(failure.message).toContain('timeoutMs');
  });
});
