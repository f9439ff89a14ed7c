/**
 * Helpers for the pipeline-file tests: write a pipeline to a temporary file, run `convoy validate`
 * logic on it, and read back the exit code and the printed lines with the temporary path replaced
 * by `pipeline.yaml`, so assertions read like the messages users see.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { runValidate } from '../../../src/cli/validate';

/** A fresh temporary directory, removed by {@link cleanupTempDirs}. */
const tempDirs: string[] = [];
export function makeTempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'convoy-spec-test-'));
  tempDirs.push(dir);
  return dir;
}
export function cleanupTempDirs(): void {
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** Writes `content` (text, or an object written as YAML) to `<tmp>/<name>` and returns the path. */
export function writePipeline(content: string | object, name = 'pipeline.yaml'): string {
  const file = join(makeTempDir(), name);
  writeFileSync(file, typeof content === 'string' ? content : stringify(content));
  return file;
}

export interface ValidateOutcome {
  code: number;
  /** stdout lines. */
  out: string[];
  /** stderr lines, with the file path shown as `pipeline.yaml`. */
  err: string[];
  /** stderr lines that are errors (not warnings). */
  errors: string[];
  warnings: string[];
}

/** Runs `runValidate` on `content` written to a temporary `pipeline.yaml`. */
export function validate(
  content: string | object,
  vars?: Record<string, string>,
  name = 'pipeline.yaml',
): ValidateOutcome {
  const file = writePipeline(content, name);
  return validateFile(file, vars, name);
}

/** Runs `runValidate` on an existing file; its path is shown as `shownAs` in the lines. */
export function validateFile(
  file: string,
  vars?: Record<string, string>,
  shownAs = 'pipeline.yaml',
): ValidateOutcome {
  const out: string[] = [];
  const err: string[] = [];
  const code = runValidate(file, { vars }, { out: (s) => out.push(s), err: (s) => err.push(s) });
  const shown = err.map((line) => line.split(file).join(shownAs));
  return {
    code,
    out: out.map((line) => line.split(file).join(shownAs)),
    err: shown,
    errors: shown.filter((line) => !line.startsWith('warning: ')),
    warnings: shown.filter((line) => line.startsWith('warning: ')),
  };
}

/**
 * A pipeline under construction in a test. Tests reach deep into it to break one field at a time
 * (`p.stages[0].workflows[1].steps[2].timeoutMs = 0`), including into shapes the schema forbids,
 * so it is deliberately untyped.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type PipelineDraft = any;

/**
 * A small valid pipeline as a plain object, for tests to change one thing in: one stage where
 * `payments` and `orders` deploy, meet at `services-deployed`, and verify.
 */
export function basePipeline(): PipelineDraft {
  return {
    name: 'checkout-release',
    variables: { version: '1.4.2' },
    stages: [
      {
        name: 'deploy',
        workflows: [
          {
            name: 'payments',
            variables: { service: 'payments' },
            steps: [
              {
                name: 'deploy',
                type: 'shell',
                command: 'echo deploying ${{ vars.service }}',
                timeoutMs: 60000,
              },
              { name: 'all-deployed', type: 'barrier', identifier: 'services-deployed' },
              { name: 'verify', type: 'wait', durationMs: 1000 },
            ],
            rollbackSteps: [{ name: 'undo', type: 'shell', command: 'echo undo' }],
          },
          {
            name: 'orders',
            steps: [
              { name: 'deploy', type: 'shell', command: 'echo deploying orders' },
              { name: 'all-deployed', type: 'barrier', identifier: 'services-deployed' },
            ],
          },
        ],
      },
    ],
  };
}

/** Shorthand for a barrier step. */
export function barrier(identifier: string, extra: object = {}): object {
  return { name: `at-${identifier}`, type: 'barrier', identifier, ...extra };
}

/** Shorthand for a trivial shell step. */
export function shell(name: string, command = 'true', extra: object = {}): object {
  return { name, type: 'shell', command, ...extra };
}
