/**
 * What a running shell step costs in memory outside the worker: its process group (the step's
 * `/bin/sh -c`, the watchdog of src/activities/supervisor.ts, and what the command runs), started
 * as the shell activity starts it. The worker's sizing rule (src/worker/sizing.ts) plans a budget
 * per step slot from this.
 */
import { readFileSync } from 'node:fs';
import { runningGroupMembers } from '../src/activities/process-group';
import { spawnSupervised } from '../src/activities/supervisor';
import { parseStatusFieldMb } from './proc';
import { round } from './stats';

/** The group's memory, summed over its processes, in MiB. */
export interface StepMemory {
  command: string;
  processes: number;
  /** VmRSS: counts the shared pages of `sh` and of each program once per process. */
  rssMb: number;
  /** RssAnon: the private pages, what each more step costs a container. */
  privateMb: number;
}

/** The commands measured: a small script, and a pipe of three commands. */
export const STEP_COMMANDS = [
  'for i in 1 2 3; do echo "deploying $i"; done; sleep 30',
  'while :; do echo line; sleep 1; done | grep -v nothing | cat >/dev/null',
];

/** Starts `command` under the watchdog, lets it settle for `settleMs`, sums its group's memory, kills it. */
export async function measureStepMemory(command: string, settleMs = 500): Promise<StepMemory> {
  const { child, link } = spawnSupervised(command, { env: process.env, killGraceMs: 2000 });
  child.stdout.resume();
  child.stderr.resume();
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    await new Promise((resolve) => setTimeout(resolve, settleMs));
    const members = await runningGroupMembers(child.pid!);
    let rssMb = 0;
    let privateMb = 0;
    for (const { pid } of members) {
      try {
        const status = readFileSync(`/proc/${pid}/status`, 'utf8');
        rssMb += parseStatusFieldMb(status, 'VmRSS') ?? 0;
        privateMb += parseStatusFieldMb(status, 'RssAnon') ?? 0;
      } catch {
        // ended meanwhile
      }
    }
    return { command, processes: members.length, rssMb: round(rssMb, 1), privateMb: round(privateMb, 1) };
  } finally {
    process.kill(-child.pid!, 'SIGKILL');
    link.destroy();
    await exited;
  }
}
