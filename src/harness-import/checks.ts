/**
 * What the import checks on top of the translation: the barrier patterns that deadlock or
 * misbehave in Harness, and everything Convoy's own validation finds in the result, reported at
 * the Harness path it came from.
 *
 * Pure module.
 */
import type { ValidationIssue } from '../pipeline-file/issues';
import { parsePipelineText } from '../pipeline-file/load';
import { parsePipelineFile } from '../pipeline-file/schema';
import { validatePipeline } from '../pipeline-file/validate';
import { VALIDATION_PIPELINE_ID } from '../pipeline-file/compile';
import type { StagePlan } from '../model/plan';
import { type AssembledPipeline, type ImportedPipeline, leafImportedSteps, originOf } from './imported';
import { type HarnessLocation, type ImportReport, describeLocation } from './report';

/**
 * Barriers Harness cannot honour, each occurrence reported as an error at its Harness path:
 * - a barrier in rollback steps: peers that do not roll back never arrive (Harness documents it as
 *   a barrier cycle); Convoy has no barriers in rollback steps (SPEC section 2 rule 4);
 * - the same barrier in stages that run one after another: the stage that reaches it first waits
 *   for a stage that has not started, until the barrier times out. Convoy would treat them as two
 *   independent barriers (and only warn), which is not what the Harness pipeline meant.
 */
export function reportBarrierPitfalls(pipeline: ImportedPipeline, report: ImportReport): void {
  const uses = new Map<string, { stage: number; at: HarnessLocation }[]>();
  pipeline.stages.forEach((stage, stageIndex) => {
    for (const workflow of stage.workflows) {
      for (const step of leafImportedSteps(workflow.steps)) {
        if (step.body.type !== 'barrier') continue;
        const list = uses.get(step.body.identifier) ?? [];
        list.push({ stage: stageIndex, at: step.at });
        uses.set(step.body.identifier, list);
      }
      for (const step of workflow.rollbackSteps) {
        if (step.body.type !== 'barrier') continue;
        report.error(
          step.at,
          `barrier '${step.body.identifier}' in rollback steps: in Harness the peers that do not roll back ` +
            'never reach it (a rollback barrier cycle); Convoy allows no barriers in rollback steps. ' +
            'Synchronise before the rollback, or drop the barrier',
        );
      }
    }
  });
  for (const [identifier, occurrences] of uses) {
    const stages = [...new Set(occurrences.map((use) => use.stage))];
    if (stages.length < 2) continue;
    for (const use of occurrences) {
      const others = occurrences
        .filter((other) => other.stage !== use.stage)
        .map((other) =>
          other.at.file === use.at.file
            ? describeLocation(other.at)
            : `${other.at.file}: ${describeLocation(other.at)}`,
        );
      report.error(
        use.at,
        `barrier '${identifier}' is also used by ${others.join(', ')}, in a stage that does not run in ` +
          'parallel with this one: in Harness the stage that reaches it first waits for a stage that has ' +
          'not started, until the barrier times out. Use a barrier only in stages that run in parallel',
      );
    }
  }
}

/** What Convoy's validation made of the imported file. */
export interface ConvoyCheck {
  /** The expanded stages, when the file is valid: for the summary. */
  stages?: StagePlan[];
}

/**
 * Validates the written text exactly as `convoy validate` would and reports each error and warning
 * at the Harness location its Convoy path came from, naming the Convoy field too. Warnings at a
 * location that already has an import error are left out: the error says what to fix there.
 */
export function reportConvoyValidation(
  text: string,
  assembled: AssembledPipeline,
  report: ImportReport,
): ConvoyCheck {
  const relay = (issues: readonly ValidationIssue[], kind: 'error' | 'warn') => {
    for (const issue of issues) {
      const at = originOf(assembled.sources, issue.path) ?? { file: '', path: [] };
      if (report.hasErrorAt(at)) continue;
      report[kind](at, `${issue.message} (Convoy: ${issue.path === '' ? 'the file' : issue.path})`);
    }
  };
  const loaded = parsePipelineText(text);
  if (!loaded.ok) {
    relay(loaded.issues, 'error');
    return {};
  }
  const parsed = parsePipelineFile(loaded.data);
  if (!parsed.ok) {
    relay(parsed.issues, 'error');
    return {};
  }
  const validation = validatePipeline(parsed.file, { pipelineId: VALIDATION_PIPELINE_ID });
  relay(validation.errors, 'error');
  relay(validation.warnings, 'warn');
  return validation.errors.length === 0 ? { stages: validation.stages } : {};
}
