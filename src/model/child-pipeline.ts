/**
 * What a `pipeline` step's end means for the calling workflow: the child pipeline's document goes
 * into the step's record, and the step fails unless the child pipeline succeeded.
 *
 * Pure module (workflow code uses it).
 */
import type { PipelineStepPlan } from './plan';
import { pipelineResultSchema, type StepResult } from './result';

/** At most this many unsuccessful workflows are named in a failure message. */
const MAX_NAMED = 5;

/**
 * Records the child pipeline's `document` (its result, or the document its failure carried) in
 * the step's `record`; returns why the step fails, or undefined when the child pipeline succeeded.
 */
export function childPipelineFailure(
  step: PipelineStepPlan,
  document: unknown,
  record: StepResult,
): string | undefined {
  const subject = `child pipeline ${step.pipeline.name} (${step.file})`;
  const parsed = pipelineResultSchema.safeParse(document);
  if (!parsed.success) return `${subject} ended without a readable result document`;
  record.pipeline = parsed.data;
  const doc = parsed.data;
  if (doc.status === 'succeeded') return undefined;
  const unsuccessful = doc.workflows
    .filter((wf) => wf.status !== 'succeeded' && wf.status !== 'not-started')
    .map((wf) => `${wf.name} ${wf.status}`);
  const named =
    unsuccessful.length > MAX_NAMED
      ? `${unsuccessful.slice(0, MAX_NAMED).join(', ')} and ${unsuccessful.length - MAX_NAMED} more`
      : unsuccessful.join(', ');
  return `${subject} ended ${doc.status}${named ? `: ${named}` : ''}`;
}
