/**
 * Shared test helpers for the activity tests. The activities run for real inside
 * `MockActivityEnvironment`, Temporal's official activity harness (a real activity Context with
 * `cancel()` and recorded heartbeats; no server involved).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import type { Info } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';

/**
 * A fresh environment per test: once cancelled, an environment stays cancelled. `info` overrides
 * the activity info (workflow, activity id, attempt).
 */
export function newActivityEnvironment(info?: Partial<Info>): {
  env: MockActivityEnvironment;
  heartbeats: unknown[];
} {
  // ERROR level: every failing step would otherwise print an "Activity failed" warning.
  const env = new MockActivityEnvironment(info, { logger: new DefaultLogger('ERROR') });
  const heartbeats: unknown[] = [];
  env.on('heartbeat', (details: unknown) => heartbeats.push(details));
  return { env, heartbeats };
}

/** Awaits a promise that must reject with an ApplicationFailure, and returns it. */
export async function expectApplicationFailure(promise: Promise<unknown>): Promise<ApplicationFailure> {
  const error = await promise.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  if (!(error instanceof ApplicationFailure)) {
    throw new Error(`expected an ApplicationFailure, got ${error === undefined ? 'success' : String(error)}`);
  }
  return error;
}

/** Awaits a promise that must reject, and returns what it rejected with. */
export async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a rejection, got success');
    },
    (thrown: unknown) => thrown,
  );
}

/**
 * Processes of a group that still run, as `ps` sees them (an implementation independent of the
 * one under test). Zombies are excluded: they run nothing and only wait for their parent (PID 1
 * for orphans) to reap them.
 */
export function liveGroupMembers(pgid: number): string[] {
  const listing = execFileSync('ps', ['-eo', 'pid=,pgid=,stat=,args='], { encoding: 'utf8' });
  return listing
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter((fields) => Number(fields[1]) === pgid && !(fields[2] ?? '').startsWith('Z'))
    .map((fields) => fields.join(' '));
}

/** True while the kernel still knows a process with this pgid (zombies included). */
export function groupExists(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw error;
  }
}

/**
 * Waits until `process.kill(-pgid, 0)` fails with ESRCH. Killed background processes are
 * orphans whose zombies PID 1 reaps on its own schedule (about 2 s in some containers), hence
 * the generous limit; a group that was not killed (`sleep 30`) would still fail this.
 */
export async function waitUntilGroupGone(pgid: number, limitMs = 8_000): Promise<boolean> {
  const deadline = Date.now() + limitMs;
  while (Date.now() < deadline) {
    if (!groupExists(pgid)) return true;
    await delay(50);
  }
  return !groupExists(pgid);
}

/** Waits for a file the test command writes (its pgid), and returns its trimmed content. */
export async function waitForFile(path: string, limitMs = 5_000): Promise<string> {
  const deadline = Date.now() + limitMs;
  while (Date.now() < deadline) {
    if (existsSync(path)) {
      const content = readFileSync(path, 'utf8').trim();
      if (content !== '') return content;
    }
    await delay(10);
  }
  throw new Error(`${path} was not written within ${limitMs} ms`);
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * `env.run` with the activity's own result type: `MockActivityEnvironment.run` infers its result
 * as `unknown` for activities declared with a function type.
 */
export function runActivity<I, R>(
  env: MockActivityEnvironment,
  activity: (input: I) => Promise<R>,
  input: I,
): Promise<R> {
  return env.run(activity, input) as Promise<R>;
}

/**
 * Arguments for `node` that run a TypeScript file of this repository in a plain child process:
 * a require hook transpiles each `.ts` file with the project's TypeScript (types unchecked, as
 * ts-jest does here). For tests whose subject must be a separate process, such as a worker that
 * gets SIGKILLed.
 */
export function nodeArgsForTypeScript(file: string, args: string[] = []): string[] {
  const hook = `
    const ts = require('typescript');
    const { readFileSync } = require('node:fs');
    require.extensions['.ts'] = (module, filename) => {
      const { outputText } = ts.transpileModule(readFileSync(filename, 'utf8'), {
        fileName: filename,
        compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
      });
      module._compile(outputText, filename);
    };
    require(process.argv[1]);`;
  return ['-e', hook, file, ...args];
}
