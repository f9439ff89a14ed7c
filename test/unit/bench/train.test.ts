/** The release-train benchmark's plans: one pipeline per participant, every barrier on the train. */
import { trainPipelineName, trainPlans } from '../../../bench/train';
import { pipelinePlanSchema } from '../../../src/model/plan';

test('each pipeline runs one participant of the schedule, and each barrier joins the train expecting them all', () => {
  const plans = trainPlans('t', 'spring', [
    [1000, 0],
    [1200, 1000],
  ]);
  const names = [trainPipelineName(0, 2), trainPipelineName(1, 2)];
  expect(plans.map((p) => [p.plan.name, p.participant])).toEqual([
    [names[0], 'w0'],
    [names[1], 'w1'],
  ]);
  for (const { plan } of plans) {
    expect(pipelinePlanSchema.safeParse(plan).success).toBe(true);
    expect(plan.stages[0]!.barriers).toEqual([
      {
        identifier: 'b1',
        participants: [plan.stages[0]!.workflows[0]!.name],
        train: { name: 'spring', expect: names },
      },
      {
        identifier: 'b2',
        participants: [plan.stages[0]!.workflows[0]!.name],
        train: { name: 'spring', expect: names },
      },
    ]);
  }
  // w0 crosses b2 right after b1 (no wait); w1 waits a second first.
  expect(plans[0]!.plan.stages[0]!.workflows[0]!.steps.map((s) => s.name)).toEqual([
    'wait-1',
    'cross-1',
    'cross-2',
  ]);
  expect(plans[1]!.plan.stages[0]!.workflows[0]!.steps.map((s) => s.name)).toEqual([
    'wait-1',
    'cross-1',
    'wait-2',
    'cross-2',
  ]);
});
