/**
 * Ctrl-C and SIGTERM, for real: `convoy` processes started as a terminal starts a foreground job
 * (a process group of their own), signalled to the whole group (Ctrl-C) or to the node process
 * alone, timed from the signal to the exit. And when no worker polls the task queue, `run` and
 * `status` say so within seconds and keep waiting.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pipelineResultSchema } from '../../src/model/result';
import {
  CONVOY_BIN,
  connectTestEnv,
  eventually,
  runConvoy,
  workflowIdsMatching,
  type TestEnv,
} from './harness';
import { freePort } from '../../src/dev-server/dev-server';

const repo = resolve(__dirname, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'convoy-signals-'));

/** A pipeline that stays busy long after the tests are done with it. */
const longPipeline = join(dir, 'long.yaml');
writeFileSync(
  longPipeline,
  `
name: signals-long
stages:
  - name: deploy
    workflows:
      - { name: slow, steps: [{ name: work, type: shell, command: "sleep 120" }, { name: sync, type: barrier, identifier: gate }] }
      - { name: fast, steps: [{ name: sync, type: barrier, identifier: gate }] }
`,
);
const quickPipeline = join(dir, 'quick.yaml');
writeFileSync(
  quickPipeline,
  `
name: signals-quick
stages:
  - name: deploy
    workflows:
      - { name: only, steps: [{ name: hello, type: shell, command: "echo hello" }] }
`,
);

/** A `convoy` process in a process group of its own, as a shell runs a foreground job. */
function startJob(args: string[], env: NodeJS.ProcessEnv = {}) {
  const child = spawn(CONVOY_BIN, args, {
    cwd: repo,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  let exitedAt = 0;
  const exited = new Promise<number | null>((r) =>
    child.on('close', (code) => {
      exitedAt = Date.now();
      r(code);
    }),
  );
  return {
    child,
    exited,
    stdout: () => stdout,
    stderr: () => stderr,
    /** Resolves once stderr matches (rejects if the process ends first). */
    async waitFor(pattern: RegExp, timeoutMs = 60_000): Promise<RegExpMatchArray> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const match = pattern.exec(stderr);
        if (match) return match;
        if (exitedAt)
          throw new Error(`convoy ${args.join(' ')} exited before ${pattern}:\n${stdout}\n${stderr}`);
        if (Date.now() > deadline) throw new Error(`no ${pattern} within ${timeoutMs} ms:\n${stderr}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    /** Sends `signal` to the whole group (a terminal's Ctrl-C) or to the node process alone. */
    signal(signal: NodeJS.Signals, target: 'group' | 'process'): number {
      process.kill(target === 'group' ? -child.pid! : child.pid!, signal);
      return Date.now();
    },
    msSince(sentAt: number): number {
      return exitedAt - sentAt;
    },
  };
}

let sleepers = 0;
/** A long pipeline whose shell step runs `sleep SECONDS` with SECONDS unique to it, to find it by. */
function uniqueLongPipeline(): { file: string; sleep: string } {
  const sleep = `300.${process.pid}${++sleepers}`;
  const file = join(dir, `long-${sleepers}.yaml`);
  writeFileSync(file, readFileSync(longPipeline, 'utf8').replace('sleep 120', `sleep ${sleep}`));
  return { file, sleep };
}

/** Processes running `sleep SECONDS`. */
function sleepersOf(seconds: string): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((entry) => {
      try {
        return readFileSync(`/proc/${entry}/cmdline`, 'utf8') === `sleep\0${seconds}\0`;
      } catch {
        return false;
      }
    })
    .map(Number);
}

/** Processes (not zombies) whose command line holds `--port PORT`: a dev server left behind. */
function devServersOnPort(port: number): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const args = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      const at = args.indexOf('--port');
      if (at >= 0 && args[at + 1] === String(port) && args.includes('start-dev')) found.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

function portAcceptsConnections(port: number): Promise<boolean> {
  return new Promise((resolvePort) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolvePort(true);
    });
    socket.once('error', () => resolvePort(false));
  });
}

/** What the SDK's Rust core prints when it loses its server under a running worker. */
const SDK_NOISE = /\[WARN\]|gRPC call|tonic::transport|Status \{/;

let env: TestEnv;
let serverEnv: NodeJS.ProcessEnv;
beforeAll(async () => {
  env = await connectTestEnv('signals');
  await env.startWorker();
  serverEnv = {
    TEMPORAL_ADDRESS: process.env.CONVOY_TEST_TEMPORAL_ADDRESS!,
    TEMPORAL_TASK_QUEUE: env.taskQueue,
  };
});
afterAll(() => env.close());

test.each(['group', 'process'] as const)(
  'Ctrl-C during run (SIGINT to the %s) detaches within 1 s and says how to reattach or cancel',
  async (target) => {
    const id = `signals-detach-${target}-${Date.now()}`;
    const run = startJob(['run', longPipeline, '--id', id], serverEnv);
    await run.waitFor(/pipeline .* started/);
    const sent = run.signal('SIGINT', target);
    expect(await run.exited).toBe(130);
    expect(run.msSince(sent)).toBeLessThan(1000);
    expect(run.stderr()).toContain(`convoy status ${id} --watch`);
    expect(run.stderr()).toContain(`convoy cancel ${id}`);
    // Detached, not cancelled: the pipeline runs on.
    expect((await env.client.workflow.getHandle(id).describe()).status.name).toBe('RUNNING');
    expect((await runConvoy(['cancel', id], serverEnv)).code).toBe(0);
  },
);

describe('run --embedded', () => {
  test.each([
    ['SIGINT', 'group', 130],
    ['SIGINT', 'process', 130],
    ['SIGTERM', 'process', 143],
  ] as const)(
    '%s to the %s cancels the pipeline, stops the server and exits %i within 5 s, quietly',
    async (signal, target, code) => {
      const { file, sleep } = uniqueLongPipeline();
      const run = startJob(['run', file, '--embedded', '--json']);
      const [, port] = await run.waitFor(/embedded Temporal dev server at 127\.0\.0\.1:(\d+)/, 120_000);
      await run.waitFor(/pipeline .* started/);
      await eventually(
        async () => sleepersOf(sleep),
        (found) => found.length === 1,
      );
      // The embedded server has Convoy's search attributes: the waiting pipeline is one query away.
      const [, pipelineId] = await run.waitFor(/pipeline (\S+) started/);
      await eventually(
        () => workflowIdsMatching(`127.0.0.1:${port}`, 'ConvoyWaitingBarriers = "gate"'),
        (ids) => ids.includes(pipelineId!),
      );
      const sent = run.signal(signal, target);
      expect(await run.exited).toBe(code);
      expect(run.msSince(sent)).toBeLessThan(5000);
      expect(run.stderr()).toMatch(/cancelling pipeline .* and stopping the embedded server/);
      expect(run.stderr()).not.toMatch(SDK_NOISE);
      // The pipeline's document, when it ended in the time allowed: aborted.
      if (run.stdout() !== '')
        expect(pipelineResultSchema.parse(JSON.parse(run.stdout())).status).toBe('aborted');
      // Nothing is left running: not the deploy step, not the server.
      expect(sleepersOf(sleep)).toEqual([]);
      expect(devServersOnPort(Number(port))).toEqual([]);
      expect(await portAcceptsConnections(Number(port))).toBe(false);
    },
  );
});

describe('convoy dev', () => {
  test('SIGTERM stops its worker and server', async () => {
    const [port, uiPort] = [await freePort(), await freePort()];
    const dev = startJob(['dev', '--port', String(port), '--ui-port', String(uiPort)]);
    await eventually(
      async () => dev.stdout(),
      (out) => out.includes('Press Ctrl-C to stop'),
      120_000,
    );
    expect(devServersOnPort(port)).toHaveLength(1);
    dev.signal('SIGTERM', 'process');
    expect(await dev.exited).toBe(0);
    expect(dev.stderr()).not.toMatch(SDK_NOISE);
    expect(devServersOnPort(port)).toEqual([]);
  });

  test('a dev whose node process is SIGKILLed takes its server along (the watchdog)', async () => {
    const [port, uiPort] = [await freePort(), await freePort()];
    const dev = startJob(['dev', '--port', String(port), '--ui-port', String(uiPort)]);
    await eventually(
      async () => dev.stdout(),
      (out) => out.includes('Press Ctrl-C to stop'),
      120_000,
    );
    expect(devServersOnPort(port)).toHaveLength(1);
    dev.signal('SIGKILL', 'process');
    await dev.exited;
    await eventually(
      async () => devServersOnPort(port),
      (left) => left.length === 0,
      15_000,
    );
  });
});

describe('no worker on the task queue', () => {
  test('run and status say so within 5 s, keep waiting, and go on when a worker comes', async () => {
    const idle = await connectTestEnv('signals-idle'); // its own task queue, no worker yet
    try {
      const idleEnv = { ...serverEnv, TEMPORAL_TASK_QUEUE: idle.taskQueue };
      const id = `signals-noworker-${Date.now()}`;
      const run = startJob(['run', quickPipeline, '--id', id, '--json'], idleEnv);
      await run.waitFor(/pipeline .* started/);
      const startedAt = Date.now();
      await run.waitFor(new RegExp(`no worker polls task queue ${idle.taskQueue}`), 10_000);
      expect(Date.now() - startedAt).toBeLessThan(5000);

      const statusStart = Date.now();
      const status = startJob(['status', id], idleEnv);
      await status.waitFor(new RegExp(`no worker polls task queue ${idle.taskQueue}`), 10_000);
      expect(Date.now() - statusStart).toBeLessThan(5000);
      expect(status.stdout()).toBe(''); // still waiting for the document

      await idle.startWorker();
      expect(await run.exited).toBe(0);
      expect(pipelineResultSchema.parse(JSON.parse(run.stdout())).status).toBe('succeeded');
      expect(await status.exited).toBe(0);
      expect(status.stdout()).toMatch(/signals-quick/);
    } finally {
      await idle.close();
    }
  });
});
