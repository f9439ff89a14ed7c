/**
 * Helpers for the importer's tests: Harness files built in code (shaped as Harness exports them)
 * or read from test/fixtures/harness, imported in memory the way `convoy import harness` does.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { parsePipelineText } from '../../../src/pipeline-file/load';
import { formatImportIssue, formatImportWarning, importHarness } from '../../../src/harness-import';
import type { ImportResult } from '../../../src/harness-import';
import { readHarnessFiles } from '../../../src/harness-import/read';

export const FIXTURES = join(__dirname, '..', '..', 'fixtures', 'harness');

/** What an import printed, as `convoy import harness` prints it, with the result. */
export interface Imported {
  result: ImportResult;
  errors: string[];
  warnings: string[];
  /** The Convoy pipeline file as data (when the import succeeded). */
  pipeline: PipelineData;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type PipelineData = any;

/** Imports files given as `{ name: YAML text or data }`. */
export function importFiles(
  files: Record<string, string | object>,
  mappings: Record<string, string> = {},
): Imported {
  const loaded = Object.entries(files).map(([file, content]) => {
    const parsed = parsePipelineText(typeof content === 'string' ? content : stringify(content));
    if (!parsed.ok) throw new Error(`${file}: ${JSON.stringify(parsed.issues)}`);
    return { file, data: parsed.data };
  });
  return describe(importHarness(loaded, new Map(Object.entries(mappings))));
}

/** Imports a fixture: a NextGen file, or every file of a FirstGen folder. */
export function importFixture(name: string, mappings: Record<string, string> = {}): Imported {
  const path = join(FIXTURES, name);
  const paths = name.endsWith('.yaml') ? [path] : readdirSync(path).map((file) => join(path, file));
  const read = readHarnessFiles(paths);
  if (read.errors.length > 0) throw new Error(JSON.stringify(read.errors));
  const shown = read.files.map((file) => ({ ...file, file: file.file.slice(FIXTURES.length + 1) }));
  return describe(importHarness(shown, new Map(Object.entries(mappings))));
}

/** Imports a fixture and checks it has no errors, `warnings` warnings and the given summary. */
export function expectCleanImport(
  fixture: string,
  generation: 'NextGen' | 'FirstGen',
  summary: { stages: number; workflows: number; barriers: number },
  warnings: number,
): Imported {
  const imported = importFixture(fixture);
  expect(imported.errors).toEqual([]);
  expect(imported.warnings).toHaveLength(warnings);
  expect(imported.result).toMatchObject({ generation, summary });
  return imported;
}

function describe(result: ImportResult): Imported {
  const parsed = result.text === undefined ? undefined : parsePipelineText(result.text);
  return {
    result,
    errors: result.errors.map(formatImportIssue),
    warnings: result.warnings.map(formatImportWarning),
    pipeline: parsed?.ok ? parsed.data : undefined,
  };
}

/** The workflow named `name` of an imported pipeline. */
export function workflowOf(pipeline: PipelineData, name: string): PipelineData {
  for (const stage of pipeline.stages) {
    for (const workflow of stage.workflows) if (workflow.name === name) return workflow;
  }
  throw new Error(`no workflow ${name}`);
}

// ---------------------------------------------------------------------------------------------
// NextGen pieces

/** A ShellScript step wrapper. */
export function ngShell(identifier: string, script = 'echo ok', extra: object = {}): object {
  return {
    step: {
      type: 'ShellScript',
      name: identifier,
      identifier,
      spec: { shell: 'Bash', onDelegate: true, source: { type: 'Inline', spec: { script } } },
      timeout: '1m',
      ...extra,
    },
  };
}

/** A Barrier step wrapper. */
export function ngBarrier(identifier: string, barrierRef: string, extra: object = {}): object {
  return {
    step: { type: 'Barrier', name: identifier, identifier, spec: { barrierRef }, timeout: '1m', ...extra },
  };
}

/** Any other step wrapper. */
export function ngStep(type: string, identifier: string, spec: object = {}, extra: object = {}): object {
  return { step: { type, name: identifier, identifier, spec, timeout: '5m', ...extra } };
}

/** A Custom stage wrapper. */
export function ngStage(
  identifier: string,
  steps: object[],
  extra: object = {},
  rollbackSteps?: object[],
): object {
  return {
    stage: {
      name: identifier,
      identifier,
      type: 'Custom',
      spec: { execution: { steps, ...(rollbackSteps ? { rollbackSteps } : {}) } },
      ...extra,
    },
  };
}

/** A failure strategy list of one rule. */
export function ngRule(errors: string[], action: object): object[] {
  return [{ onFailure: { errors, action } }];
}

/** A NextGen pipeline file's data. */
export function ngPipeline(stages: object[], barriers: string[] = [], extra: object = {}): object {
  return {
    pipeline: {
      name: 'release',
      identifier: 'release',
      projectIdentifier: 'shop',
      orgIdentifier: 'default',
      flowControl: { barriers: barriers.map((identifier) => ({ name: identifier, identifier })) },
      stages,
      ...extra,
    },
  };
}

// ---------------------------------------------------------------------------------------------
// FirstGen pieces

export function fgShell(name: string, script = 'echo ok', properties: object = {}): object {
  return {
    type: 'SHELL_SCRIPT',
    name,
    properties: {
      scriptString: script,
      scriptType: 'BASH',
      executeOnDelegate: true,
      timeoutMillis: 60000,
      ...properties,
    },
  };
}

export function fgBarrier(name: string, identifier: string, properties: object = {}): object {
  return { type: 'BARRIER', name, properties: { identifier, ...properties } };
}

/** A workflow of one phase with one phase step. */
export function fgWorkflow(steps: object[], extra: object = {}, rollbackSteps?: object[]): object {
  return {
    harnessApiVersion: '1.0',
    type: 'BASIC',
    envName: 'staging',
    phases: [
      {
        type: 'CUSTOM',
        name: 'Phase 1',
        serviceName: 'svc',
        phaseSteps: [{ type: 'CUSTOM_DEPLOYMENT_PHASE_STEP', name: 'Deploy', steps, stepsInParallel: false }],
      },
    ],
    ...(rollbackSteps
      ? {
          rollbackPhases: [
            {
              type: 'CUSTOM',
              name: 'Rollback Phase 1',
              phaseNameForRollback: 'Phase 1',
              phaseSteps: [
                {
                  type: 'CUSTOM_DEPLOYMENT_PHASE_STEP',
                  name: 'Rollback',
                  steps: rollbackSteps,
                  stepsInParallel: false,
                },
              ],
            },
          ],
        }
      : {}),
    ...extra,
  };
}

/** A pipeline stage element running `workflowName`. */
export function fgElement(name: string, workflowName: string, parallel = false, extra: object = {}): object {
  return {
    type: 'ENV_STATE',
    name,
    parallel,
    skipCondition: { type: 'DO_NOT_SKIP' },
    stageName: 'STAGE 1',
    workflowName,
    ...extra,
  };
}

export function fgPipeline(elements: object[]): object {
  return { harnessApiVersion: '1.0', type: 'PIPELINE', pipelineStages: elements };
}

export function fgStrategy(repairActionCode: string, extra: object = {}): object {
  return {
    executionScope: 'WORKFLOW',
    failureTypes: ['APPLICATION_ERROR'],
    repairActionCode,
    retryCount: 0,
    ...extra,
  };
}
