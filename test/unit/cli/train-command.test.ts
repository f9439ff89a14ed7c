/** The text of `convoy train status` and the release-train lines of `convoy status`. */
import { formatBarrierTrains, formatTrainStatus } from '../../../src/cli/train-command';
import type { PipelineResult } from '../../../src/model/result';

const NOW = Date.parse('2026-11-30T08:00:05.000Z');

test('a standing train: arrivals with their pipeline IDs, the missing pipelines, the time left', () => {
  const text = formatTrainStatus(
    {
      train: 'spring',
      identifier: 'cutover',
      workflowId: 'convoy-train/spring/cutover',
      runId: 'run-1',
      startedAt: '2026-11-30T08:00:00.000Z',
      status: 'standing',
      expect: ['payments', 'checkout'],
      arrivals: { payments: '2026-11-30T08:00:01.000Z' },
      pipelines: { payments: 'pay-1' },
      missing: ['checkout'],
      deadline: '2026-11-30T08:00:15.000Z',
    },
    NOW,
  );
  expect(text.split('\n')).toEqual([
    'train spring · barrier cutover: standing',
    'run run-1 (workflow convoy-train/spring/cutover), started 2026-11-30T08:00:00.000Z',
    'expects payments, checkout',
    'arrived: payments (pay-1, 2026-11-30T08:00:01.000Z)',
    'missing: checkout',
    'times out at 2026-11-30T08:00:15.000Z (in 10.0 s)',
  ]);
});

test('convoy status shows each train barrier: who arrived, who is missing, time left or how it resolved', () => {
  const doc = {
    barriers: [
      { stage: 'deploy', identifier: 'plain', participants: [], status: 'crossed', arrivals: {} },
      {
        stage: 'deploy',
        identifier: 'cutover',
        participants: ['api', 'train:spring'],
        status: 'standing',
        arrivals: {},
        train: {
          name: 'spring',
          workflowId: 'convoy-train/spring/cutover',
          runId: 'run-1',
          expect: ['payments', 'checkout'],
          status: 'standing',
          arrivals: { payments: '2026-11-30T08:00:01.000Z' },
          missing: ['checkout'],
          deadline: '2026-11-30T08:00:07.500Z',
        },
      },
    ],
  } as unknown as PipelineResult;
  expect(formatBarrierTrains(doc, NOW)).toEqual([
    '  train spring at cutover (stage deploy): standing; arrived 1/2 (payments); missing checkout; 2.5 s left; run run-1',
  ]);
});
