/**
 * The same-host guard: a shell step's attempt never starts while an earlier attempt of the same
 * step still runs on this host.
 *
 * Temporal runs an activity again when its worker is lost (heartbeat timeout). The watchdog (see
 * ./supervisor) kills the lost attempt's process group when its worker dies, but it may itself
 * have been killed, or the new attempt may arrive on this host within the kill grace. So every
 * attempt records its process group in a small file named after the step's activity (namespace,
 * workflow id and activity id: what stays the same across Temporal's attempts), and a new attempt
 * that finds a recorded group still alive kills it (Temporal has given up on that attempt: its
 * worker is gone or cut off) and waits until it is gone before it spawns anything.
 *
 * A pgid is only a number, and numbers are reused (pid_max is often 32768), so a recorded group
 * counts as the earlier attempt only when its leader is the recorded process (same pid and start
 * time, on the same boot) or, once the leader has exited, when a member still carries the
 * attempt's marker in its environment ({@link STEP_KEY_VARIABLE}).
 */
import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  processGroupAlive,
  processStartTime,
  runningGroupMembers,
  terminateProcessGroup,
  TerminationOutcomes,
} from './process-group';

/** The environment variable that marks every process of a shell step's attempt. */
export const STEP_KEY_VARIABLE = 'CONVOY_STEP_KEY';

/** How often a group that survived SIGKILL is checked again. */
const SURVIVOR_POLL_MS = 500;

/** Which attempt of which step: the activity's identity, from its `Context.info`. */
export interface StepAttempt {
  namespace: string;
  workflowId: string;
  runId: string;
  activityId: string;
  /** Temporal's attempt number, from 1. */
  attempt: number;
}

/** What an attempt records about itself. */
interface AttemptRecord {
  pgid: number;
  /** The leader's start time (see `processStartTime`); null where there is no /proc. */
  leaderStartTime: string | null;
  bootId: string | null;
  runId: string;
  attempt: number;
  workerPid: number;
  startedAt: string;
}

/** The variable that moves the records' folder (Kubernetes: onto a writable volume). */
export const STEP_STATE_DIR_VARIABLE = 'CONVOY_STEP_STATE_DIR';

/**
 * The folder of the records: `CONVOY_STEP_STATE_DIR`, else `convoy-steps-<uid>` in the OS's temp
 * folder (one per user: a worker can only kill its own user's processes anyway).
 */
export function stepStateDir(): string {
  return (
    process.env[STEP_STATE_DIR_VARIABLE] || join(tmpdir(), `convoy-steps-${process.getuid?.() ?? 'user'}`)
  );
}

/** The same for every attempt of one step's activity; names its record and marks its processes. */
export function stepKey(step: StepAttempt): string {
  return createHash('sha256')
    .update([step.namespace, step.workflowId, step.activityId].join('\0'))
    .digest('hex')
    .slice(0, 32);
}

/**
 * Resolves once no earlier attempt of `step` runs on this host, killing one that does (SIGTERM,
 * then SIGKILL after `killGraceMs`). Returns what it did, for the step's output, or undefined
 * when nothing ran. Rejects with `signal`'s reason when the attempt is cancelled meanwhile.
 */
export async function waitForEarlierAttempt(
  dir: string,
  step: StepAttempt,
  options: { killGraceMs: number; signal: AbortSignal },
): Promise<string | undefined> {
  const key = stepKey(step);
  const record = readRecord(dir, key);
  if (record === undefined || !isEarlier(record, step)) return undefined;
  if (!(await isAliveAndTheirs(record, key))) return undefined;

  const started = Date.now();
  const outcome = await terminateProcessGroup(record.pgid, options.killGraceMs);
  while (outcome === TerminationOutcomes.survived && (await isAliveAndTheirs(record, key))) {
    // Stuck in uninterruptible I/O: it dies when the I/O ends. Starting meanwhile is what the
    // guard exists to prevent, so wait (the caller heartbeats, so this attempt is not lost).
    if (options.signal.aborted) throw options.signal.reason;
    await new Promise((resolve) => setTimeout(resolve, SURVIVOR_POLL_MS));
  }
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  const earlier = record.runId === step.runId ? `attempt ${record.attempt}` : 'an attempt of an earlier run';
  return (
    `convoy: ${earlier} of this step (process group ${record.pgid}, started ${record.startedAt} ` +
    `by worker pid ${record.workerPid}) was still running on this host; Temporal had given up on ` +
    `it, so attempt ${step.attempt} killed it and waited ${seconds} s for it to end before starting`
  );
}

/**
 * Records `pgid` as the group of this attempt. Synchronous, and to be called right after spawn:
 * the leader's start time is read before the event loop could reap it.
 */
export function recordAttempt(dir: string, step: StepAttempt, pgid: number): void {
  const record: AttemptRecord = {
    pgid,
    leaderStartTime: processStartTime(pgid) ?? null,
    bootId: bootId(),
    runId: step.runId,
    attempt: step.attempt,
    workerPid: process.pid,
    startedAt: new Date().toISOString(),
  };
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (!ownDirectory(dir)) throw new Error(`${dir} is not a directory of this user's`);
  const file = recordFile(dir, stepKey(step));
  // Written aside and renamed, so a reader never sees half a record.
  const partial = `${file}.${process.pid}.tmp`;
  writeFileSync(partial, JSON.stringify(record));
  renameSync(partial, file);
}

/** Removes the record once this attempt's group is gone, unless a later attempt has replaced it. */
export function forgetAttempt(dir: string, step: StepAttempt, pgid: number): void {
  const file = recordFile(dir, stepKey(step));
  const record = readRecord(dir, stepKey(step));
  if (record?.pgid === pgid && record.runId === step.runId && record.attempt === step.attempt) {
    try {
      rmSync(file, { force: true });
    } catch {
      // A record left behind only costs the next attempt a look at a group that is gone.
    }
  }
}

function recordFile(dir: string, key: string): string {
  return join(dir, `${key}.json`);
}

function readRecord(dir: string, key: string): AttemptRecord | undefined {
  // In a shared temp folder, a folder someone else made could hold records pointing at any of
  // our processes: only our own is read.
  if (!ownDirectory(dir)) return undefined;
  try {
    return JSON.parse(readFileSync(recordFile(dir, key), 'utf8')) as AttemptRecord;
  } catch {
    return undefined; // none, or unreadable: nothing is known to run
  }
}

/**
 * Temporal starts attempt n+1 only after giving up on attempt n, and a workflow id has one open
 * run at a time, so an earlier attempt or another run's is abandoned. A record of this same
 * attempt or a later one is not ours to kill.
 */
function isEarlier(record: AttemptRecord, step: StepAttempt): boolean {
  return record.runId !== step.runId || record.attempt < step.attempt;
}

/** True while the recorded group runs and is still the recorded attempt's (not a reused pgid). */
async function isAliveAndTheirs(record: AttemptRecord, key: string): Promise<boolean> {
  if (record.bootId !== bootId()) return false; // the host restarted since
  if (!(await processGroupAlive(record.pgid))) return false;
  if (process.platform !== 'linux') return true; // no /proc to tell a reused pgid by
  const members = await runningGroupMembers(record.pgid);
  const leader = members.find((member) => member.pid === record.pgid);
  // The pid of a live group cannot be reused, so a leader started at another time means the
  // recorded group ended and the number now names someone else's.
  if (leader !== undefined) return leader.startTime === record.leaderStartTime;
  for (const member of members) {
    if (await carriesMarker(member.pid, key)) return true;
  }
  return false;
}

async function carriesMarker(pid: number, key: string): Promise<boolean> {
  try {
    const environment = await readFile(`/proc/${pid}/environ`, 'latin1');
    return environment.split('\0').includes(`${STEP_KEY_VARIABLE}=${key}`);
  } catch {
    return false; // gone, or another user's
  }
}

/** True when `dir` is a real directory (not a link) owned by this process's user. */
function ownDirectory(dir: string): boolean {
  try {
    const stat = lstatSync(dir);
    return stat.isDirectory() && (process.getuid === undefined || stat.uid === process.getuid());
  } catch {
    return false;
  }
}

let cachedBootId: string | null | undefined;
/** Linux's id of the current boot, or null elsewhere. */
function bootId(): string | null {
  if (cachedBootId === undefined) {
    try {
      cachedBootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    } catch {
      cachedBootId = null;
    }
  }
  return cachedBootId;
}
