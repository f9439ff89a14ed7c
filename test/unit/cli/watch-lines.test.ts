/** The timestamped lines `convoy run` and `status --watch` print when stdout is not a terminal. */
import { PipelineChangeTracker } from '../../../src/client/changes';
import { changeLines, whenOf } from '../../../src/cli/watch-lines';
import type { PipelineResult } from '../../../src/model/result';
import { at, midRun } from './fixtures';

const SEEN = '2026-01-01T12:09:59.000Z';

test('a watch that starts late tells the story so far in time order, with the times things happened', () => {
  const doc = midRun();
  const lines = changeLines(new PipelineChangeTracker().update(doc), doc, SEEN);
  const times = lines.map((line) => line.slice(0, 24));
  expect([...times].sort()).toEqual(times);
  for (const line of lines) expect(line).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z \S/);
  expect(lines).toContain(`${at(0)} pipeline release-42: running`);
  expect(lines).toContain(`${at(0)} stage deploy: running`); // its first step's start
  expect(lines).toContain(`${at(100)} search: running`);
  expect(lines).toContain(
    `${at(1_000)} barrier deploy/db-ready: payments arrived (1/2 arrived; waiting for orders[eu])`,
  );
  expect(lines).toContain(`${at(1_500)} barrier deploy/db-ready: orders[eu] arrived (2/2 arrived)`);
  expect(lines).toContain(
    `${at(2_000)} barrier deploy/all-deployed: payments arrived (1/3 arrived; waiting for search, orders[eu])`,
  );
  expect(lines).toContain(`${at(2_000)} payments: waiting-at-barrier`);
  expect(lines).toContain(`${at(3_000)} orders[eu]: waiting-for-intervention`);
  const waiting = lines.indexOf(`${at(3_000)} orders[eu]: waiting-for-intervention`);
  expect(lines[waiting + 1]).toBe(
    `${at(3_000)} orders[eu]: waits for manual intervention on step migrate (decide by ${at(303_000)}): convoy intervene release-42 'orders[eu]' --action <retry|ignore|abort|rollback|mark-success>`,
  );
});

test('one line per change: the next document adds only what changed', () => {
  const tracker = new PipelineChangeTracker();
  const first = midRun();
  tracker.update(first);
  const next: PipelineResult = structuredClone(first);
  next.barriers[0]!.arrivals.search = at(5_000);
  next.workflows[1]!.steps[0] = { ...next.workflows[1]!.steps[0]!, status: 'succeeded', endedAt: at(4_000) };
  expect(changeLines(tracker.update(next), next, SEEN)).toEqual([
    `${at(4_000)} search: step deploy succeeded`,
    `${at(5_000)} barrier deploy/all-deployed: search arrived (2/3 arrived; waiting for orders[eu])`,
  ]);
  expect(changeLines(tracker.update(next), next, SEEN)).toEqual([]);
});

test('a change the document has no time for is stamped when it was seen', () => {
  const doc = midRun();
  expect(
    whenOf(
      {
        type: 'workflow-status',
        workflow: 'search',
        stage: 'deploy',
        from: 'waiting-at-barrier',
        to: 'running',
      },
      doc,
    ),
  ).toBeUndefined();
  expect(
    changeLines(
      [
        {
          type: 'workflow-status',
          workflow: 'search',
          stage: 'deploy',
          from: 'waiting-at-barrier',
          to: 'running',
        },
      ],
      doc,
      SEEN,
    ),
  ).toEqual([`${SEEN} search: waiting-at-barrier -> running`]);
  expect(whenOf({ type: 'stage-status', stage: 'deploy', from: 'running', to: 'failed' }, doc)).toBe(
    at(3_000),
  );
});
