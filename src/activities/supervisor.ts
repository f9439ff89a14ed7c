/**
 * Starting a shell step so that its process group dies with its worker.
 *
 * A step's command runs in a process group of its own (see ./process-group). The worker kills
 * that group on cancellation and timeout, but a worker that dies (SIGKILL, OOM killer, a crash)
 * kills nothing: the group runs on, orphaned, while Temporal starts the step again elsewhere.
 *
 * So the step starts under a watchdog written in POSIX sh. The worker spawns `/bin/sh -c
 * SUPERVISOR_SCRIPT` as the leader of a new process group and passes it one more pipe (fd 3).
 * The script forks a watchdog (a copy of itself, in the same group) that keeps fd 3 and blocks
 * reading it, closes fd 3 itself, and `exec`s `/bin/sh -c command`. The worker never writes to the
 * pipe, so the watchdog's read returns only when the worker's end closes, which the kernel does
 * when the worker exits, however it dies. The watchdog then ignores SIGTERM itself, sends
 * SIGTERM to the group, waits the kill grace and sends SIGKILL to the group, itself included.
 *
 * Because of the `exec`, the worker's child is still `/bin/sh -c command` itself: `$$` is the
 * group id, the exit code or signal the worker sees is the command's own, and the existing
 * cancellation and timeout path (`terminateProcessGroup(child.pid)`) is unchanged; the watchdog,
 * a group member that dies on SIGTERM until it has started its own kill, goes with the rest.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable } from 'node:stream';
import type { Socket } from 'node:net';

/**
 * The script `/bin/sh -c` runs with `$1` = the step's command and `$2` = the kill grace in
 * seconds. The watchdog's stdout and stderr go to /dev/null so it holds no output pipe open;
 * `sleep` falls back to whole seconds for a `sleep` without fractions.
 */
export const SUPERVISOR_SCRIPT = [
  '{ while read -r _ <&3; do :; done',
  "trap '' TERM HUP INT",
  'kill -s TERM -- -$$',
  'sleep "$2" || sleep 2',
  'kill -s KILL -- -$$; } </dev/null >/dev/null 2>&1 &',
  'exec 3<&-',
  'exec /bin/sh -c "$1"',
].join('\n');

/** `$0` of the supervisor script, as `ps` shows it. */
const SUPERVISOR_NAME = 'convoy-step-supervisor';

/** A supervised step process: the command's own process, and the worker's end of the watchdog's pipe. */
export interface SupervisedProcess {
  /** `/bin/sh -c command`, leader of the step's process group (pgid = child.pid). */
  child: ChildProcessByStdio<null, Readable, Readable>;
  /**
   * The worker's end of the watchdog's pipe. Keep it open while the group may run; closing it
   * (or the worker's death) makes the watchdog kill the group.
   */
  link: Socket;
}

/** Options of {@link spawnSupervised}. */
export interface SupervisedSpawnOptions {
  cwd?: string;
  env: NodeJS.ProcessEnv;
  /** What the watchdog waits between SIGTERM and SIGKILL. */
  killGraceMs: number;
}

/**
 * Spawns `/bin/sh -c command` as the leader of a new process group, under the watchdog. Throws
 * synchronously like `spawn` does for arguments the OS cannot take; asynchronous start failures
 * (a missing working directory) arrive as the child's `error` event.
 */
export function spawnSupervised(command: string, options: SupervisedSpawnOptions): SupervisedProcess {
  const child = spawn(
    '/bin/sh',
    ['-c', SUPERVISOR_SCRIPT, SUPERVISOR_NAME, command, String(options.killGraceMs / 1000)],
    {
      cwd: options.cwd,
      env: options.env,
      // A new process group (pgid = child.pid), so cancellation can signal every process the
      // command started, not just /bin/sh.
      detached: true,
      // No stdin: steps are unattended; a command waiting for input would hang until timeout.
      // fd 3 is the watchdog's pipe.
      stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
    },
  ) as unknown as ChildProcessByStdio<null, Readable, Readable>;
  const link = child.stdio[3] as Socket;
  // Nothing is ever read from or written to the pipe; its errors (the other end gone) mean nothing.
  link.on('error', () => undefined);
  return { child, link };
}
