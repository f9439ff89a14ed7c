/**
 * Ending a shell step's whole process group. A step's command is started with `detached: true`,
 * which makes it the leader of a new process group (pgid = its pid). Scripts start children of
 * their own (`kubectl ... &`, pipelines, `sleep` in a retry loop); killing only the `/bin/sh`
 * leader would leave those running on the worker after the step was cancelled or timed out.
 * Signalling `-pgid` reaches every process in the group at once.
 */
import { readFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';

/** How often the group is polled while waiting for it to die. */
const POLL_INTERVAL_MS = 25;

/** How long to wait for the kernel to remove processes after SIGKILL before giving up. */
const AFTER_SIGKILL_WAIT_MS = 2_000;

/** What {@link terminateProcessGroup} had to do. */
export const TerminationOutcomes = {
  /** Nothing was running in the group any more. */
  alreadyGone: 'already-gone',
  /** Every process ended within the grace period after SIGTERM. */
  terminated: 'terminated',
  /** Something outlived the grace period and was sent SIGKILL; the group is gone now. */
  killed: 'killed',
  /** Something survived SIGKILL for a while (typically stuck in uninterruptible I/O). */
  survived: 'survived',
} as const;
export type TerminationOutcome = (typeof TerminationOutcomes)[keyof typeof TerminationOutcomes];

/**
 * Sends SIGTERM to every process of the group, waits up to `graceMs` for them to exit, then sends
 * SIGKILL to whatever is left, and resolves once the group is gone (or clearly cannot be killed).
 * SIGTERM first because deploy tooling often cleans up on it (releases locks, removes temp files).
 */
export async function terminateProcessGroup(pgid: number, graceMs: number): Promise<TerminationOutcome> {
  if (!(await processGroupAlive(pgid))) return TerminationOutcomes.alreadyGone;
  signalGroup(pgid, 'SIGTERM');
  if (await waitForGroupExit(pgid, graceMs)) return TerminationOutcomes.terminated;
  signalGroup(pgid, 'SIGKILL');
  if (await waitForGroupExit(pgid, AFTER_SIGKILL_WAIT_MS)) return TerminationOutcomes.killed;
  return TerminationOutcomes.survived;
}

/**
 * True while any process of the group is still running.
 *
 * `kill(-pgid, 0)` alone is not enough: a killed process stays in the process table as a zombie
 * until its parent reaps it, and the step's background children are re-parented to PID 1, which
 * in containers may reap late or never. Zombies run no code, so on Linux they are ignored by
 * reading each process's state from /proc. Elsewhere the `kill` answer is used as is.
 */
export async function processGroupAlive(pgid: number): Promise<boolean> {
  try {
    process.kill(-pgid, 0);
  } catch (error) {
    // ESRCH: no process has this pgid. EPERM would mean one exists that we may not signal.
    return (error as NodeJS.ErrnoException).code !== 'ESRCH';
  }
  if (process.platform !== 'linux') return true;
  return (await runningGroupMembers(pgid)).length > 0;
}

async function waitForGroupExit(pgid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!(await processGroupAlive(pgid))) return true;
    if (Date.now() >= deadline) return false;
    await delay(POLL_INTERVAL_MS);
  }
}

/** Sends `signal` to every process of the group; a group that is already gone is fine. */
export function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch (error) {
    // The group may have ended between the check and the signal; that is the goal anyway.
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

/** A running (not zombie) process of a group, as /proc shows it. */
export interface GroupMember {
  pid: number;
  /** Clock ticks after boot at which the process started: with the pid, it names one process. */
  startTime: string;
}

/** The group's processes that are not zombies, from /proc/<pid>/stat (Linux only). */
export async function runningGroupMembers(pgid: number): Promise<GroupMember[]> {
  const entries = await readdir('/proc');
  const members: GroupMember[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = await readFile(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // the process ended while we were listing
    }
    const { state, processGroup, startTime } = parseStat(stat);
    if (processGroup === pgid && state !== 'Z' && state !== 'X')
      members.push({ pid: Number(entry), startTime });
  }
  return members;
}

/**
 * When process `pid` started (see {@link GroupMember.startTime}), or undefined when there is no
 * such process or no /proc. Synchronous, so it can be read right after `spawn`, before the
 * event loop could reap the process.
 */
export function processStartTime(pid: number): string | undefined {
  try {
    return parseStat(readFileSync(`/proc/${pid}/stat`, 'utf8')).startTime;
  } catch {
    return undefined;
  }
}

/** The fields of /proc/<pid>/stat that Convoy reads. */
function parseStat(stat: string): { state: string; processGroup: number; startTime: string } {
  // Format: "pid (comm) state ppid pgrp ... starttime(22nd) ...". comm may contain spaces and
  // parentheses, so split after the last ')'; field 3 (state) is then index 0.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { state: fields[0], processGroup: Number(fields[2]), startTime: fields[19] };
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
