/**
 * The shell step supervisor, for real: a separate "worker" process (fixtures/supervised-worker.ts)
 * starts a step command under the supervisor and is then SIGKILLed; the step's processes must
 * not outlive it, on the host and in a container (a PID namespace whose init is tini).
 */
import { spawn, spawnSync, type ChildProcessByStdio } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { terminateProcessGroup } from '../../../src/activities/process-group';
import { spawnSupervised } from '../../../src/activities/supervisor';
import { delay, liveGroupMembers, nodeArgsForTypeScript, waitForFile } from './helpers';

jest.setTimeout(30_000);

const repo = resolve(__dirname, '..', '..', '..');
const fakeWorker = join(__dirname, 'fixtures', 'supervised-worker.ts');
const GRACE_MS = 1_000;

let scratch: string;
const started: ChildProcessByStdio<Writable, Readable, null>[] = [];
beforeEach(() => {
  scratch = mkdtempSync(join(tmpdir(), 'convoy-supervisor-'));
});
afterEach(() => {
  // A test that failed half-way leaves its worker running: SIGKILL it, and its watchdog cleans up.
  for (const child of started.splice(0)) child.kill('SIGKILL');
  rmSync(scratch, { recursive: true, force: true });
});

/** Starts the fake worker, optionally behind a launcher (`unshare ... tini --`); resolves once the step runs. */
async function startFakeWorker(
  command: string,
  env: NodeJS.ProcessEnv,
  launcher: string[] = [],
  wrap: (nodeCommand: string[]) => string[] = (nodeCommand) => nodeCommand,
) {
  const nodeCommand = [process.execPath, ...nodeArgsForTypeScript(fakeWorker, [command, String(GRACE_MS)])];
  const [file, ...args] = [...launcher, ...wrap(nodeCommand)];
  const child = spawn(file, args, {
    cwd: repo,
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  started.push(child);
  const lines = createInterface({ input: child.stdout });
  const [line] = (await once(lines, 'line')) as [string];
  expect(line).toMatch(/^started \d+$/);
  return { worker: child, die: () => child.stdin.write('die\n') };
}

/** Processes (not zombies) whose environment holds `CONVOY_TEST_MARK=<mark>`, from the host's /proc. */
function markedProcesses(mark: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (!readFileSync(`/proc/${entry}/environ`, 'latin1').split('\0').includes(`CONVOY_TEST_MARK=${mark}`))
        continue;
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) continue;
      found.push(`${entry} ${stat.slice(stat.indexOf('('), stat.lastIndexOf(')') + 1)}`);
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return found;
}

/** Waits until the step's leader, its two sleeps and the watchdog run. */
async function untilRunning(mark: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (markedProcesses(mark).length < 4) {
    if (Date.now() > deadline) throw new Error(`the step did not start: ${markedProcesses(mark).join('; ')}`);
    await delay(25);
  }
}

/** Polls until `check()` returns an empty list; resolves with the time it took, or rejects after `limitMs`. */
async function untilEmpty(check: () => string[], limitMs: number): Promise<number> {
  const start = Date.now();
  for (;;) {
    const left = check();
    if (left.length === 0) return Date.now() - start;
    if (Date.now() - start > limitMs)
      throw new Error(`still running after ${limitMs} ms: ${left.join('; ')}`);
    await delay(25);
  }
}

/**
 * Writes its pgid, logs the SIGTERM it gets, and keeps a child that ignores SIGTERM: only
 * SIGKILL ends that one. Its output goes to /dev/null first: the worker's pipes die with the
 * worker, and the shell would die of SIGPIPE reporting its killed `sleep` before its trap ran.
 */
const STUBBORN_GROUP =
  'exec >/dev/null 2>&1; echo $$ > "$PGID_FILE"; ' +
  `trap 'echo TERM >> "$LOG"' TERM; (trap '' TERM; sleep 30) & sleep 30; wait`;

describe('spawnSupervised while the worker lives', () => {
  it('runs the command as the group leader with its own exit status, and without the pipe', async () => {
    const { child, link } = spawnSupervised('[ -e /dev/fd/3 ] && exit 9; echo $$; exit 4', {
      env: process.env,
      killGraceMs: GRACE_MS,
    });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const closed = once(child, 'close');
    const [code, signal] = (await once(child, 'exit')) as [number | null, string | null];
    expect([code, signal]).toEqual([4, null]);
    await terminateProcessGroup(child.pid!, GRACE_MS);
    link.destroy();
    await closed;
    expect(stdout.trim()).toBe(String(child.pid));
  });

  it('reports a command killed by a signal with that signal', async () => {
    const { child, link } = spawnSupervised('kill -TERM $$', { env: process.env, killGraceMs: GRACE_MS });
    const [code, signal] = (await once(child, 'exit')) as [number | null, string | null];
    expect([code, signal]).toEqual([null, 'SIGTERM']);
    await terminateProcessGroup(child.pid!, GRACE_MS);
    link.destroy();
  });
});

describe('when the worker is SIGKILLed', () => {
  it('the watchdog sends SIGTERM to the group, then SIGKILL after the grace', async () => {
    const pgidFile = join(scratch, 'pgid');
    const log = join(scratch, 'log');
    const { die } = await startFakeWorker(STUBBORN_GROUP, { PGID_FILE: pgidFile, LOG: log });
    const pgid = Number(await waitForFile(pgidFile));
    await delay(200);
    // The leader, both sleeps (one in its subshell) and the watchdog.
    expect(liveGroupMembers(pgid).length).toBeGreaterThanOrEqual(3);

    const diedAt = Date.now();
    die();
    expect(await waitForFile(log, 2_000)).toBe('TERM');
    const termAfter = Date.now() - diedAt;
    // What ignores SIGTERM still runs until the grace is over...
    await delay(GRACE_MS / 2);
    expect(liveGroupMembers(pgid).length).toBeGreaterThan(0);
    // ...and then nothing of the group runs.
    const goneAfter = Date.now() - diedAt + (await untilEmpty(() => liveGroupMembers(pgid), 3_000));
    expect(termAfter).toBeLessThan(1_000);
    expect(goneAfter).toBeGreaterThanOrEqual(GRACE_MS);
    expect(goneAfter).toBeLessThan(GRACE_MS + 1_500);
  });
});

/** True when this machine can make PID namespaces with tini as their init (root, util-linux, tini). */
function containersAvailable(): boolean {
  const probe = spawnSync('unshare', ['--pid', '--fork', '--mount-proc', 'tini', '--', 'true']);
  return probe.status === 0;
}

// A container is a PID namespace; the Dockerfile runs the worker under tini as its PID 1. The
// guarantee is tested, not skipped: a machine that cannot make one fails here (.ci/run installs tini).
describe('in a container (a PID namespace whose init is tini)', () => {
  beforeAll(() => {
    if (!containersAvailable())
      throw new Error(
        'these tests need `unshare --pid` (root, util-linux) and tini (Debian: apt-get install tini)',
      );
  });
  const container = ['unshare', '--pid', '--fork', '--mount-proc', '--kill-child', 'tini', '--'];

  it('when the worker is the main process, the kernel kills the step with the namespace', async () => {
    const mark = randomUUID();
    const { worker, die } = await startFakeWorker(
      STUBBORN_GROUP,
      {
        CONVOY_TEST_STEP_MARK: mark,
        PGID_FILE: join(scratch, 'pgid'),
        LOG: join(scratch, 'log'),
      },
      container,
    );
    await untilRunning(mark);
    const exited = once(worker, 'exit');
    die();
    // tini exits with its child; when a namespace's init exits, the kernel SIGKILLs the rest.
    await exited;
    expect(await untilEmpty(() => markedProcesses(mark), 2_000)).toBeLessThan(GRACE_MS);
  });

  it('when PID 1 outlives the worker, the watchdog kills the step as on a host', async () => {
    const mark = randomUUID();
    const log = join(scratch, 'log');
    // The entry point is a shell that runs the worker and stays (as with a wrapper script).
    const { die } = await startFakeWorker(
      STUBBORN_GROUP,
      { CONVOY_TEST_STEP_MARK: mark, PGID_FILE: join(scratch, 'pgid'), LOG: log },
      container,
      (nodeCommand) => ['/bin/sh', '-c', '"$@"; sleep 30', 'entrypoint', ...nodeCommand],
    );
    await untilRunning(mark);
    const diedAt = Date.now();
    die();
    expect(await waitForFile(log, 2_000)).toBe('TERM');
    await untilEmpty(() => markedProcesses(mark), GRACE_MS + 3_000);
    expect(Date.now() - diedAt).toBeGreaterThanOrEqual(GRACE_MS);
  });
});
