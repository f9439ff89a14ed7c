/** The parent-history prediction behind `convoy validate`'s history warning. */
import { compilePipelineText } from '../../../src/pipeline-file/compile';
import { HISTORY_BUDGET, predictParentHistoryEvents } from '../../../src/pipeline-file/history-budget';

const stages = compilePipelineText(
  `
name: budget
variables: { mode: fast }
stages:
  - name: one
    workflows:
      - name: a
        forEach: [x, y, z]
        steps:
          - { name: g1, type: barrier, identifier: g1 }
          - { name: g2, type: barrier, identifier: g2, when: { var: mode, equals: slow } }
      - name: b
        steps: [{ name: g1, type: barrier, identifier: g1 }, { name: g2, type: barrier, identifier: g2 }]
  - name: two
    workflows:
      - name: c
        steps: [{ name: w, type: wait, durationMs: 1000 }]
`,
  'budget.yaml',
  { pipelineId: 'p' },
).plan.stages;

test('counts workflows after forEach, arrivals, withdrawals (skipped barrier steps) and barriers', () => {
  const p = predictParentHistoryEvents(stages);
  expect(p).toMatchObject({ workflows: 5, arrivals: 5, withdrawals: 3, barriers: 2 });
  const b = HISTORY_BUDGET;
  expect(p.events).toBe(
    b.fixed + 5 * b.perWorkflow + 5 * b.perArrival + 3 * b.perWithdrawal + 2 * b.perBarrier,
  );
});

test('each message the parent gets is counted with a workflow task of its own', () => {
  expect(HISTORY_BUDGET).toEqual({
    fixed: 9,
    perWorkflow: 9,
    perArrival: 6,
    perWithdrawal: 4,
    perBarrier: 4,
  });
});
