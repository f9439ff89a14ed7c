/**
 * `convoy run` and `convoy status --watch` show a pipeline while it runs: real `convoy`
 * processes against the dev server, stdout a pipe (timestamped lines, JSON lines) or a
 * pseudo-terminal from util-linux `script` (the live view, colour, NO_COLOR, the width).
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import stringWidth from 'string-width';
import { pipelineResultSchema, type PipelineResult } from '../../src/model/result';
import { ConvoyClient } from '../../src/index';
import { CONVOY_BIN, connectTestEnv, eventually, runConvoy, type TestEnv } from './harness';

const SCRIPT = '/usr/bin/script';
const dir = mkdtempSync(join(tmpdir(), 'convoy-progress-'));
let env: TestEnv;
let serverEnv: NodeJS.ProcessEnv;

beforeAll(async () => {
  if (!existsSync(SCRIPT)) throw new Error(`${SCRIPT} not found: apt-get install -y util-linux`);
  env = await connectTestEnv('progress');
  await env.startWorker();
  serverEnv = {
    TEMPORAL_ADDRESS: process.env.CONVOY_TEST_TEMPORAL_ADDRESS!,
    TEMPORAL_TASK_QUEUE: env.taskQueue,
  };
});
afterAll(() => env.close());

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

let ids = 0;
const newId = (prefix: string) => `${prefix}-${process.pid}-${++ids}`;

/**
 * api arrives at the barrier at once; web's deploy waits until the test opens its gate (at most
 * 60 s), so that api alone at the barrier is certain to be shown however loaded the machine is.
 */
function gatedBarrierPipeline(gate: string): string {
  return file(
    `gated-${gate.split('/').pop()}.yaml`,
    `
name: progress
stages:
  - name: deploy
    workflows:
      - name: api
        steps:
          - { name: deploy, type: shell, command: "echo api" }
          - { name: sync, type: barrier, identifier: services-deployed }
      - name: web
        steps:
          - { name: deploy, type: shell, command: "for i in $(seq 600); do [ -e '${gate}' ] && break; sleep 0.1; done; echo web" }
          - { name: sync, type: barrier, identifier: services-deployed }
`,
  );
}

/** web fails and waits for an operator, who has ten minutes. */
const interventionPipeline = file(
  'intervention.yaml',
  `
name: operator
stages:
  - name: deploy
    workflows:
      - name: api
        steps:
          - { name: sync, type: barrier, identifier: services-deployed }
      - name: web
        steps:
          - name: deploy
            type: shell
            command: "exit 1"
            failureStrategies: [{ on: [step-failed], action: manual-intervention, timeoutMs: 600000, onTimeout: abort }]
          - { name: sync, type: barrier, identifier: services-deployed }
`,
);

const TIMESTAMP = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z /;
const SGR = /\x1b\[[\d;]*m/;
const ANY_ESCAPE = /\x1b\[[\d;?]*[A-Za-z]/g;

/** A `convoy` process whose output the test reads as it comes. */
interface Streaming {
  child: ChildProcessWithoutNullStreams;
  stdout(): string;
  stderr(): string;
  /** Resolves with the first stdout line matching `pattern`. */
  line(pattern: RegExp, timeoutMs?: number): Promise<string>;
  exit: Promise<number | null>;
}

function startConvoy(args: string[]): Streaming {
  const child = spawn(CONVOY_BIN, args, { env: { ...process.env, ...serverEnv } });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exit = new Promise<number | null>((resolve) => child.on('close', resolve));
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exit,
    async line(pattern, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = out.split('\n').find((l) => pattern.test(l));
        if (found !== undefined) return found;
        if (Date.now() > deadline || child.exitCode !== null)
          throw new Error(`no line matching ${pattern} in:\n${out}\n${err}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
  };
}

/**
 * `convoy ARGS` with stdout a pseudo-terminal of `columns` columns; returns what the terminal got.
 * `gate`, if given, is created once the plain output matches its pattern.
 */
function runInTerminal(
  args: string[],
  columns: number,
  extraEnv: NodeJS.ProcessEnv = {},
  gate?: { path: string; opensOn: RegExp },
) {
  const command = `stty cols ${columns} rows 50; exec ${[CONVOY_BIN, ...args].map((a) => `'${a}'`).join(' ')}`;
  return new Promise<{ code: number | null; output: string }>((resolve, reject) => {
    const child = spawn(SCRIPT, ['-qfec', command, '/dev/null'], {
      env: { ...process.env, ...serverEnv, ...extraEnv },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const take = (d: Buffer) => {
      output += d.toString();
      if (gate && !existsSync(gate.path) && gate.opensOn.test(output.replace(ANY_ESCAPE, '')))
        writeFileSync(gate.path, '');
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`convoy ${args.join(' ')} under script did not finish:\n${output}`));
    }, 90_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

test('run with stdout a pipe: one timestamped line per change, no colour, then the result', async () => {
  const id = newId('lines');
  const gate = join(dir, `${id}.gate`);
  const running = startConvoy(['run', gatedBarrierPipeline(gate), '--id', id]);
  await running.line(/api arrived \(1\/2 arrived; waiting for web\)/);
  writeFileSync(gate, '');
  const result = { code: await running.exit, stdout: running.stdout(), stderr: running.stderr() };
  expect(result.code).toBe(0);
  expect(result.stdout + result.stderr).not.toMatch(ANY_ESCAPE);
  const [progress, summary] = result.stdout.split(/\n(?=Pipeline )/);
  const lines = progress!.trim().split('\n');
  for (const line of lines) expect(line).toMatch(TIMESTAMP);
  const text = lines.map((line) => line.replace(TIMESTAMP, '')).join('\n');
  expect(text).toContain(`pipeline ${id}: running`);
  expect(text).toContain('barrier deploy/services-deployed: api arrived (1/2 arrived; waiting for web)');
  expect(text).toContain('barrier deploy/services-deployed: web arrived (2/2 arrived)');
  expect(text).toContain('barrier deploy/services-deployed: crossed');
  expect(text).toContain('web: step deploy succeeded');
  expect(text).toContain(`pipeline ${id}: running -> succeeded`);
  expect(new Set(lines).size).toBe(lines.length); // each change once
  expect(summary).toMatch(new RegExp(`^Pipeline ${id} \\(progress\\): succeeded after`));
});

test('status --watch: the operator is shown the exact intervene command, and it works; --json prints a document per change', async () => {
  const id = newId('operator');
  expect((await runConvoy(['run', interventionPipeline, '--no-wait', '--id', id], serverEnv)).code).toBe(0);
  const watching = startConvoy(['status', id, '--watch']);
  const json = startConvoy(['status', id, '--watch', '--json']);

  const line = await watching.line(/convoy intervene /);
  expect(line).toMatch(TIMESTAMP);
  expect(line).toMatch(
    /web: waits for manual intervention on step deploy \(decide by \d{4}-\S+Z\): convoy intervene /,
  );
  const command = line.slice(line.indexOf('convoy intervene '));
  expect(command).toBe(`convoy intervene ${id} web --action <retry|ignore|abort|rollback|mark-success>`);
  // Run it as printed, choosing one of the decisions it offers.
  const decided = await new Promise<{ code: number | null; out: string }>((resolve) => {
    const shell = spawn('/bin/sh', ['-c', command.replace(/<[^>]+>/, 'ignore')], {
      env: { ...process.env, ...serverEnv, PATH: `${dirname(CONVOY_BIN)}:${process.env.PATH}` },
    });
    let out = '';
    shell.stdout.on('data', (d: Buffer) => (out += d.toString()));
    shell.stderr.on('data', (d: Buffer) => (out += d.toString()));
    shell.on('close', (code) => resolve({ code, out }));
  });
  expect(decided).toEqual({ code: 0, out: 'web: ignore\n' });

  expect(await watching.exit).toBe(0); // it ends with the pipeline
  expect(watching.stdout()).toMatch(
    /web: waiting-for-intervention -> (running|waiting-at-barrier|succeeded)/,
  );
  expect(watching.stdout()).toMatch(new RegExp(`\\nPipeline ${id} \\(operator\\): succeeded after`));

  expect(await json.exit).toBe(0);
  const docs: PipelineResult[] = json
    .stdout()
    .trimEnd()
    .split('\n')
    .map((text) => pipelineResultSchema.parse(JSON.parse(text)));
  const texts = docs.map((doc) => JSON.stringify(doc));
  for (let i = 1; i < texts.length; i++) expect(texts[i]).not.toBe(texts[i - 1]); // only changes
  expect(docs.at(-1)!.status).toBe('succeeded');
  expect(docs.slice(0, -1).every((doc) => doc.status === 'running')).toBe(true);
  const waiting = docs.find((doc) => doc.workflows[1]!.status === 'waiting-for-intervention');
  expect(waiting?.workflows[1]!.intervention).toMatchObject({ step: 'deploy', deadline: expect.any(String) });
  expect(waiting?.barriers[0]).toMatchObject({ status: 'standing', deadline: expect.any(String) });
});

test('run on a terminal: a live view redrawn in place, coloured, fitting the width', async () => {
  const id = newId('tty');
  const gate = join(dir, `${id}.gate`);
  const apiAlone = /(^|[\r\n])deploy\/services-\S* +standing +1\/2 +web +\d+m \d\ds left\r?\n/;
  const { code, output } = await runInTerminal(
    ['run', gatedBarrierPipeline(gate), '--id', id],
    72,
    {},
    {
      path: gate,
      opensOn: apiAlone,
    },
  );
  expect(code).toBe(0);
  expect(output).toMatch(/\x1b\[\d+A\r\x1b\[J/); // a frame replaced by the next
  expect(output).toMatch(SGR);
  const frames = output.split(/\x1b\[\d+A\r\x1b\[J/);
  const plainLines = output.replace(ANY_ESCAPE, '').split(/\r?\n/);
  expect(plainLines.some((l) => /^deploy\/services-\S* +standing +1\/2 +web +\d+m \d\ds left$/.test(l))).toBe(
    true,
  );
  expect(plainLines.some((l) => /^api +deploy +waiting-at-barrier +2\. sync \(barrier\)$/.test(l))).toBe(
    true,
  );
  expect(plainLines.some((l) => /^web +deploy +running +1\. deploy \(shell\)$/.test(l))).toBe(true);
  // Every line of the view and of the result's tables; stderr's one-line messages may wrap.
  const tooWide = plainLines.filter(
    (l) => stringWidth(l) > 72 && !l.startsWith(`pipeline ${id} started on `),
  );
  expect(tooWide).toEqual([]);
  expect(frames.length).toBeGreaterThan(2);
  expect(output).toContain(`Pipeline ${id} (progress): succeeded after`);
});

test('NO_COLOR: the same live view without a single colour', async () => {
  const id = newId('nocolor');
  const gate = join(dir, `${id}.gate`);
  const { code, output } = await runInTerminal(
    ['run', gatedBarrierPipeline(gate), '--id', id],
    100,
    { NO_COLOR: '1' },
    { path: gate, opensOn: /api +deploy +waiting-at-barrier/ },
  );
  expect(code).toBe(0);
  expect(output).toMatch(/\x1b\[\d+A\r\x1b\[J/);
  expect(output).not.toMatch(SGR);
  expect(output.replace(ANY_ESCAPE, '')).toMatch(/api +deploy +waiting-at-barrier/);
});

test('status --watch on a terminal: the live view shows the intervention deadline and the exact command', async () => {
  const id = newId('tty-operator');
  expect((await runConvoy(['run', interventionPipeline, '--no-wait', '--id', id], serverEnv)).code).toBe(0);
  const command = `convoy intervene ${id} web --action <retry|ignore|abort|rollback|mark-success>`;
  const shown = join(dir, `${id}.shown`);
  const watching = runInTerminal(
    ['status', id, '--watch'],
    120,
    {},
    { path: shown, opensOn: /convoy intervene / },
  );
  // The operator decides once the view has shown what to run.
  await eventually(
    async () => existsSync(shown),
    (seen) => seen,
    60_000,
  );
  const handle = new ConvoyClient({ client: env.client, taskQueue: env.taskQueue }).getHandle(id);
  expect(await handle.intervene({ workflow: 'web', action: 'ignore' })).toBe('web: ignore');

  const { code, output } = await watching;
  expect(code).toBe(0);
  expect(output).toMatch(/\x1b\[\d+A\r\x1b\[J/); // the live view, not lines
  const plainLines = output.replace(ANY_ESCAPE, '').split(/\r?\n/);
  const at = plainLines.findIndex((l) =>
    /^web waits for manual intervention on step deploy: \d+m \d\ds left to decide \(by \d{4}-\S+Z\)$/.test(l),
  );
  expect(at).toBeGreaterThanOrEqual(0);
  expect(plainLines[at + 1]).toBe(`  ${command}`);
  expect(output).toContain(`Pipeline ${id} (operator): succeeded after`);
});

test("a step's output reaches the terminal inert: its escape sequences are shown escaped, in lines, the live view and the result", async () => {
  const hostile = file(
    'hostile.yaml',
    `
name: hostile
stages:
  - name: deploy
    workflows:
      - name: api
        steps:
          - { name: deploy, type: shell, command: "printf 'bad\\\\033]0;pwned\\\\007\\\\033[2Jgone\\\\n' >&2; exit 3" }
`,
  );
  const raw = /\x1b\]0;pwned|\x1b\[2J/;
  const id = newId('hostile');
  const piped = startConvoy(['run', hostile, '--id', id]);
  expect(await piped.exit).toBe(1);
  expect(piped.stdout()).not.toMatch(/\x1b/);
  expect(piped.stdout()).toMatch(
    /api: step deploy failed \(step-failed: .*stderr: bad\\x1b\]0;pwned\\x07\\x1b\[2Jgone/,
  );
  expect(piped.stdout()).toMatch(
    /│ api +│ deploy +│ aborted +│ deploy \(shell\) failed — .*bad\\x1b\]0;pwned/,
  );

  const onTerminal = await runInTerminal(['run', hostile, '--id', newId('hostile-tty')], 200);
  expect(onTerminal.code).toBe(1);
  expect(onTerminal.output).not.toMatch(raw);
  expect(onTerminal.output.replace(ANY_ESCAPE, '')).toContain('bad\\x1b]0;pwned\\x07\\x1b[2Jgone');
});
