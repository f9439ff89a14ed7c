/**
 * How big Convoy's messages may be. The Temporal server writes a signal to history before any
 * workflow code sees it, so the only place to cap a message's size is the server's blob size
 * limit (`limit.blobSize.error`, per payload). Convoy ships that limit set to what its own
 * messages need (config/temporal/dynamic-config.yaml) and keeps its messages under it: the
 * largest are the plan (the pipeline workflow's input) and the result documents, which it bounds
 * here; signals and updates are a few KiB at most.
 *
 * Pure module (workflow code uses it).
 */
import type { PipelineResult, StepResult, WorkflowResult } from './result';

/**
 * The largest plan Convoy starts, in bytes of JSON. A realistic three-step workflow (a shell step
 * with a 100-character command and two env variables, a barrier, an http check) compiles to about
 * 785 bytes, so this holds about 835 of them: more than Temporal's history warning (10,240 parent
 * events, about 680 such workflows with one barrier each) lets a pipeline have.
 */
export const MAX_PLAN_BYTES = 640 * 1024;

/** The largest result document (a pipeline's, or one workflow's) a workflow returns. */
export const MAX_DOCUMENT_BYTES = 640 * 1024;

/**
 * The server's `limit.blobSize.error` that Convoy ships: above every message Convoy sends (the
 * plan and documents above, plus the input's envelope), below a 1 MB signal.
 */
export const BLOB_SIZE_LIMIT_BYTES = 768 * 1024;

/** The bytes of `text` in UTF-8, the encoding payloads are written in. */
export function utf8Bytes(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) bytes += 1;
    else if (code < 0x800) bytes += 2;
    else if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length) {
      bytes += 4; // a surrogate pair: one code point of 4 bytes
      i += 1;
    } else bytes += 3;
  }
  return bytes;
}

/** The size of `value` as a JSON payload. */
export function jsonBytes(value: unknown): number {
  return utf8Bytes(JSON.stringify(value) ?? '');
}

/** `output` with each tail cut to its last `chars` characters. */
function trimOutput(output: NonNullable<StepResult['output']>, chars: number): StepResult['output'] {
  const cut = (tail: string | undefined) =>
    tail === undefined ? undefined : tail.slice(tail.length - chars);
  const stdoutTail = cut(output.stdoutTail);
  const stderrTail = cut(output.stderrTail);
  return {
    ...output,
    ...(stdoutTail !== undefined ? { stdoutTail } : {}),
    ...(stderrTail !== undefined ? { stderrTail } : {}),
  };
}

function mapSteps<D extends PipelineResult | WorkflowResult>(doc: D, f: (step: StepResult) => StepResult): D {
  if ('workflows' in doc)
    return { ...doc, workflows: doc.workflows.map((wf) => ({ ...wf, steps: wf.steps.map(f) })) };
  return { ...doc, steps: doc.steps.map(f) };
}

/**
 * `doc` as a workflow may return it: when it is larger than `maxBytes`, the output tails of its
 * steps are shortened (each keeps its end, halving until the document fits or they are empty).
 * Returns `doc` itself when it fits; never changes it.
 */
export function fitDocument<D extends PipelineResult | WorkflowResult>(
  doc: D,
  maxBytes = MAX_DOCUMENT_BYTES,
): D {
  if (jsonBytes(doc) <= maxBytes) return doc;
  for (let chars = 2048; ; chars = Math.floor(chars / 2)) {
    // Child pipelines' documents nest in their steps: their tails are shortened as well.
    const trimStep = (step: StepResult): StepResult => ({
      ...step,
      ...(step.output ? { output: trimOutput(step.output, chars) } : {}),
      ...(step.pipeline ? { pipeline: mapSteps(step.pipeline, trimStep) } : {}),
    });
    const trimmed = mapSteps(doc, trimStep);
    if (chars === 0 || jsonBytes(trimmed) <= maxBytes) return trimmed;
  }
}
