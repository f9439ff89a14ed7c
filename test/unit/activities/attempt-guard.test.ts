/**
 * The same-host guard, for real: attempts of one shell step run as real processes, the earlier
 * one in a separate "worker" process (fixtures/shell-attempt.ts) that gets SIGKILLed, and the
 * next one must not start while anything of the earlier one runs.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Info } from '@temporalio/activity';
import {
  recordAttempt,
  STEP_KEY_VARIABLE,
  stepKey,
  waitForEarlierAttempt,
  type StepAttempt,
} from '../../../src/activities/attempt-guard';
import { createShellActivity } from '../../../src/activities/shell';
import {
  delay,
  expectApplicationFailure,
  liveGroupMembers,
  newActivityEnvironment,
  nodeArgsForTypeScript,
  runActivity,
  waitForFile,
  waitUntilGroupGone,
} from './helpers';

jest.setTimeout(40_000);

const repo = resolve(__dirname, '..', '..', '..');
const GRACE_MS = 1_000;

let scratch: string;
let stateDir: string;
const processes: ChildProcess[] = [];
beforeEach(() => {
  scratch = mkdtempSync(join(tmpdir(), 'convoy-guard-'));
  stateDir = join(scratch, 'state');
});
afterEach(() => {
  for (const child of processes.splice(0)) {
    if (child.pid !== undefined) killGroup(child.pid);
    child.kill('SIGKILL');
  }
  rmSync(scratch, { recursive: true, force: true });
});

function killGroup(pgid: number): void {
  try {
    process.kill(-pgid, 'SIGKILL');
  } catch {
    // gone already
  }
}

/** The activity info of attempt `attempt` of activity 5 of a workflow. */
function attemptInfo(workflowId: string, attempt: number): Partial<Info> {
  return { workflowExecution: { workflowId, runId: 'run-1' }, activityId: '5', attempt };
}

/** Runs one attempt of the step in this process, as a worker would. */
function runAttempt(workflowId: string, attempt: number, command: string, env: Record<string, string> = {}) {
  const { env: activityEnv } = newActivityEnvironment(attemptInfo(workflowId, attempt));
  const runShell = createShellActivity({ stepStateDir: stateDir, killGraceMs: GRACE_MS });
  return runActivity(activityEnv, runShell, { command, env, workflowName: 'payments', stepName: 'deploy' });
}

/**
 * Watches a process group with `ps` until nothing of it runs; `lastSeenRunning()` is when (epoch
 * ms) the last poll that saw a member running began: the group ran at that time or later.
 */
function watchGroup(pgid: number): { lastSeenRunning: () => number; gone: Promise<void> } {
  let lastSeen = Date.now();
  const gone = (async () => {
    for (;;) {
      const polledAt = Date.now();
      if (liveGroupMembers(pgid).length === 0) return;
      lastSeen = polledAt;
      await delay(10);
    }
  })();
  return { lastSeenRunning: () => lastSeen, gone };
}

/** Writes its pgid, then ignores SIGTERM: only SIGKILL ends it. */
const STUBBORN = `exec >/dev/null 2>&1; trap '' TERM; echo $$ > "$PGID_FILE"; sleep 30`;
/** Writes the time it started, in nanoseconds. */
const NOTE_START = 'date +%s%N > "$START_FILE"; echo deployed';

describe('a retry on the same host', () => {
  it('waits while the group of an attempt whose worker was SIGKILLed still runs, and says so', async () => {
    const workflowId = `guard-${randomUUID()}`;
    const pgidFile = join(scratch, 'pgid');
    // The earlier attempt, in a worker process of its own, with a far longer grace than the retry's:
    // when the retry comes, the watchdog has sent SIGTERM (ignored) but not yet SIGKILL, however
    // loaded the machine (at 3 s, a loaded run's retry came after the watchdog had ended the group).
    const worker = spawn(
      process.execPath,
      nodeArgsForTypeScript(join(__dirname, 'fixtures', 'shell-attempt.ts'), [
        workflowId,
        '5',
        '1',
        stateDir,
        String(GRACE_MS * 20),
        STUBBORN,
      ]),
      { cwd: repo, env: { ...process.env, PGID_FILE: pgidFile }, stdio: 'ignore' },
    );
    processes.push(worker);
    const pgid = Number(await waitForFile(pgidFile, 20_000));
    await delay(200);

    worker.kill('SIGKILL');
    const watch = watchGroup(pgid);
    const startFile = join(scratch, 'start');
    const result = await runAttempt(workflowId, 2, NOTE_START, { START_FILE: startFile });
    await watch.gone;

    const retryStartedAt = Number(readFileSync(startFile, 'utf8').trim()) / 1e6;
    expect(retryStartedAt).toBeGreaterThan(watch.lastSeenRunning());
    expect(result.stdoutTail).toBe('deployed\n');
    expect(result.stderrTail).toMatch(
      new RegExp(
        `^convoy: attempt 1 of this step \\(process group ${pgid}, .*attempt 2 killed it and waited`,
      ),
    );
  });

  it('kills an earlier attempt whose worker still runs (cut off from Temporal) before it starts', async () => {
    const workflowId = `guard-${randomUUID()}`;
    const pgidFile = join(scratch, 'pgid');
    const endFile = join(scratch, 'end');
    // Logs the moment SIGTERM ends it.
    const first = runAttempt(
      workflowId,
      1,
      `trap 'date +%s%N > "$END_FILE"; exit 143' TERM; echo $$ > "$PGID_FILE"; sleep 30 & wait`,
      { PGID_FILE: pgidFile, END_FILE: endFile },
    );
    const firstFailure = expectApplicationFailure(first);
    const pgid = Number(await waitForFile(pgidFile));

    const startFile = join(scratch, 'start');
    const second = await runAttempt(workflowId, 2, NOTE_START, { START_FILE: startFile });
    const failure = await firstFailure;
    expect(failure.message).toContain('exit code 143');
    const firstEndedAt = Number(readFileSync(endFile, 'utf8').trim());
    const secondStartedAt = Number(readFileSync(startFile, 'utf8').trim());
    expect(secondStartedAt).toBeGreaterThan(firstEndedAt);
    expect(second.stderrTail).toContain(`attempt 1 of this step (process group ${pgid}`);
    expect(await waitUntilGroupGone(pgid)).toBe(true);
  });

  it('starts at once when the earlier attempt is gone, and leaves no record behind', async () => {
    const workflowId = `guard-${randomUUID()}`;
    await runAttempt(workflowId, 1, 'true');
    const startFile = join(scratch, 'start');
    expect(readdirSync(stateDir)).toEqual([]);
    const result = await runAttempt(workflowId, 2, NOTE_START, { START_FILE: startFile });
    expect(result.stderrTail).toBe('');
    expect(readdirSync(stateDir)).toEqual([]);
  });
});

describe('which group is an earlier attempt', () => {
  const step = (attempt: number): StepAttempt => ({
    namespace: 'default',
    workflowId: `which-${randomUUID()}`,
    runId: 'run-1',
    activityId: '5',
    attempt,
  });
  const check = (dir: string, attempt: StepAttempt) =>
    waitForEarlierAttempt(dir, attempt, { killGraceMs: GRACE_MS, signal: new AbortController().signal });

  /** Starts a process group of its own, as a step would be; returns its pgid. */
  function group(command: string, env: Record<string, string> = {}): number {
    const child = spawn('/bin/sh', ['-c', command], {
      detached: true,
      stdio: 'ignore',
      env: { ...process.env, ...env },
    });
    processes.push(child);
    return child.pid!;
  }

  /** Rewrites a field of a step's record, as if the recorded process had been another one. */
  function editRecord(dir: string, attempt: StepAttempt, change: Record<string, unknown>): void {
    const file = join(dir, `${stepKey(attempt)}.json`);
    writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(file, 'utf8')), ...change }));
  }

  it('not a group whose number was reused: its leader started at another time', async () => {
    const first = step(1);
    const pgid = group('exec sleep 30');
    await delay(100);
    recordAttempt(stateDir, first, pgid);
    editRecord(stateDir, first, { leaderStartTime: '1' });
    expect(await check(stateDir, { ...first, attempt: 2 })).toBeUndefined();
    expect(liveGroupMembers(pgid)).toHaveLength(1);
  });

  it('once the leader is gone, only a group whose processes carry the attempt marker', async () => {
    const first = step(1);
    const leaderless = 'sleep 30 & exit 0';
    const unmarked = group(leaderless);
    const marked = group(leaderless, { [STEP_KEY_VARIABLE]: stepKey(first) });
    await delay(200);

    recordAttempt(stateDir, first, unmarked);
    editRecord(stateDir, first, { leaderStartTime: '1' });
    expect(await check(stateDir, { ...first, attempt: 2 })).toBeUndefined();
    expect(liveGroupMembers(unmarked)).toHaveLength(1);

    recordAttempt(stateDir, first, marked);
    expect(await check(stateDir, { ...first, attempt: 2 })).toContain(`process group ${marked}`);
    expect(liveGroupMembers(marked)).toEqual([]);
  });

  it('none from a state folder that is a link (or another user’s): its records are not trusted', async () => {
    const first = step(1);
    const pgid = group('exec sleep 30');
    await delay(100);
    recordAttempt(stateDir, first, pgid);
    const link = join(scratch, 'link');
    symlinkSync(stateDir, link);
    expect(await check(link, { ...first, attempt: 2 })).toBeUndefined();
    expect(() => recordAttempt(link, first, pgid)).toThrow('is not a directory of this user');
    expect(liveGroupMembers(pgid)).toHaveLength(1);
  });

  it('not the record of this same attempt or a later one', async () => {
    const second = step(2);
    const pgid = group('exec sleep 30');
    await delay(100);
    recordAttempt(stateDir, second, pgid);
    expect(await check(stateDir, second)).toBeUndefined();
    expect(await check(stateDir, { ...second, attempt: 1 })).toBeUndefined();
    expect(liveGroupMembers(pgid)).toHaveLength(1);
    // Another run of the same workflow id (a re-run after the first was closed) is earlier.
    expect(await check(stateDir, { ...second, runId: 'run-2', attempt: 1 })).toContain('an earlier run');
  });
});
