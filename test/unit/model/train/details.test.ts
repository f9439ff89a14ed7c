/** What the Web UI shows of a release train: the train run's details and the pipeline's lines. */
import { renderBarrierTrainDetails, renderTrainDetails } from '../../../../src/model/web-ui-details';

test("a standing train run's details name who arrived, who is missing and when it times out", () => {
  const text = renderTrainDetails({
    train: 'spring',
    identifier: 'cutover',
    status: 'standing',
    expect: ['payments', 'checkout', 'search'],
    arrivals: { payments: '2026-11-30T08:00:00.000Z' },
    missing: ['checkout', 'search'],
    deadline: '2026-11-30T08:10:00.000Z',
  });
  expect(text).toBe(
    [
      '**Train `spring` · barrier `cutover`: standing**',
      '',
      '- arrived (1/3): payments',
      '- missing: checkout, search',
      '- times out at 2026-11-30T08:10:00.000Z',
    ].join('\n'),
  );
});

test("a resolved train run's details give the reason", () => {
  const text = renderTrainDetails({
    train: 'spring',
    identifier: 'cutover',
    status: 'timed-out',
    expect: ['payments', 'checkout'],
    arrivals: { payments: '2026-11-30T08:00:00.000Z' },
    missing: ['checkout'],
    reason: 'timed out waiting for checkout',
  });
  expect(text).toContain('- timed out waiting for checkout');
  expect(text).not.toContain('missing');
});

test("the pipeline's details point at the train workflow while it waits", () => {
  const barrier = { identifier: 'cutover', stage: 'deploy' };
  expect(renderBarrierTrainDetails([{ ...barrier, identifier: 'plain' }])).toBe('');
  const text = renderBarrierTrainDetails([
    {
      ...barrier,
      train: {
        name: 'spring',
        workflowId: 'convoy-train/spring/cutover',
        status: 'standing',
        expect: ['a', 'b'],
      },
    },
  ]);
  expect(text).toContain(
    '`cutover` (stage deploy) joins train `spring`: **standing** — expects a, b — see workflow `convoy-train/spring/cutover`',
  );
});
