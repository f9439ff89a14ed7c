import {
  isResultFailureType,
  pipelineOutcome,
  ResultFailureTypes,
  workflowOutcome,
} from '../../../src/model/outcome';
import type { PipelineResult, WorkflowResult } from '../../../src/model/result';

const workflow = (name: string, status: WorkflowResult['status'], steps: WorkflowResult['steps'] = []) => ({
  name,
  stage: 'deploy',
  status,
  steps,
});

const pipeline = (status: PipelineResult['status'], workflows: WorkflowResult[]): PipelineResult => ({
  pipelineId: 'release-42',
  name: 'release',
  status,
  startedAt: '2026-11-30T12:00:00.000Z',
  stages: [{ name: 'deploy', status: 'failed', workflows: workflows.map((w) => w.name) }],
  workflows,
  barriers: [],
});

test('a succeeded pipeline or workflow completes', () => {
  expect(pipelineOutcome(pipeline('succeeded', [workflow('a', 'succeeded')]))).toEqual({ kind: 'complete' });
  expect(workflowOutcome(workflow('a', 'succeeded'))).toEqual({ kind: 'complete' });
});

test('a failed pipeline fails naming the workflows that did not succeed', () => {
  const doc = pipeline('failed', [
    workflow('a', 'succeeded'),
    workflow('b', 'rolled-back'),
    workflow('c', 'aborted'),
    workflow('d', 'not-started'),
  ]);
  expect(pipelineOutcome(doc)).toEqual({
    kind: 'fail',
    type: 'ConvoyPipelineFailed',
    message: 'pipeline release failed: b rolled-back, c aborted',
  });
});

test('a failure message names at most five workflows and counts the rest', () => {
  const many = Array.from({ length: 7 }, (_, i) => workflow(`w${i}`, 'failed'));
  const outcome = pipelineOutcome(pipeline('failed', many));
  expect(outcome).toMatchObject({
    message: 'pipeline release failed: w0 failed, w1 failed, w2 failed, w3 failed, w4 failed, 2 more',
  });
});

test('an aborted pipeline fails with its own type', () => {
  expect(pipelineOutcome(pipeline('aborted', [workflow('a', 'aborted')]))).toEqual({
    kind: 'fail',
    type: 'ConvoyPipelineAborted',
    message: 'pipeline release was aborted',
  });
});

test('a workflow that did not succeed fails naming its last failed step', () => {
  const steps = [
    {
      name: 'deploy',
      type: 'shell',
      status: 'failed' as const,
      attempts: 1,
      error: { type: 'step-failed', message: 'exit 1' },
    },
    { name: 'undo', type: 'shell', status: 'succeeded' as const, attempts: 1, rollback: true },
  ];
  expect(workflowOutcome(workflow('payments', 'rolled-back', steps))).toEqual({
    kind: 'fail',
    type: 'ConvoyWorkflowRolledBack',
    message: 'workflow payments (stage deploy) rolled back: step deploy: exit 1',
  });
  expect(workflowOutcome(workflow('payments', 'aborted'))).toEqual({
    kind: 'fail',
    type: 'ConvoyWorkflowAborted',
    message: 'workflow payments (stage deploy) aborted',
  });
  expect(workflowOutcome(workflow('payments', 'failed', steps))).toMatchObject({
    type: 'ConvoyWorkflowFailed',
  });
});

test('only Convoy result failure types carry a document', () => {
  for (const type of Object.values(ResultFailureTypes)) expect(isResultFailureType(type)).toBe(true);
  expect(isResultFailureType('step-failed')).toBe(false);
  expect(isResultFailureType(undefined)).toBe(false);
});
