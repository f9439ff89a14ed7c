/** The live view of `convoy run` / `convoy status --watch`, drawn for a fake terminal width. */
import { currentStep, renderLiveView } from '../../../src/cli/live-view';
import { colours, textWidth } from '../../../src/cli/terminal-text';
import { T0, midRun } from './fixtures';

const now = T0 + 62_000;
const plain = { nowMs: now, colours: colours(false) };
const COMMAND =
  "convoy intervene release-42 'orders[eu]' --action <retry|ignore|abort|rollback|mark-success>";

test('per barrier: who arrived, who is missing and the time left; per workflow: the current step', () => {
  const text = renderLiveView(midRun(), { ...plain, width: 160 }).join('\n');
  expect(text).toContain('pipeline release-42 (release) · running · 1m 02s');
  expect(text).toMatch(/deploy\/all-deployed +standing +1\/3 +search, orders\[eu\] +9m 00s left/);
  expect(text).toMatch(/deploy\/db-ready +crossed +2\/2 +— +crossed at \+1s/);
  expect(text).toMatch(/payments +deploy +waiting-at-barrier +2\. all-deployed \(barrier\)\n/);
  expect(text).toMatch(/search +deploy +running +1\. deploy \(shell, attempt 2\)\n/);
  expect(text).toMatch(
    /orders\[eu\] +deploy +waiting-for-intervention +1\. migrate \(shell\) failed — step-failed: exit code 1\n/,
  );
  expect(text).toMatch(/smoke +verify +not-started *\n/);
});

test('a workflow waiting for an operator shows its deadline and the exact command', () => {
  const lines = renderLiveView(midRun(), { ...plain, width: 160 });
  expect(lines).toContain(
    'orders[eu] waits for manual intervention on step migrate: 4m 01s left to decide (by 2026-01-01T12:05:03.000Z)',
  );
  expect(lines).toContain(`  ${COMMAND}`);

  const forever = midRun();
  delete forever.workflows[2]!.intervention!.deadline;
  expect(renderLiveView(forever, { ...plain, width: 160 })).toContain(
    'orders[eu] waits for manual intervention on step migrate: no deadline',
  );
});

test('every line fits the terminal, whatever its width; only the command is never cut', () => {
  for (const width of [40, 60, 80, 100, 132]) {
    for (const line of renderLiveView(midRun(), { ...plain, width })) {
      if (line === `  ${COMMAND}`) continue;
      expect(textWidth(line)).toBeLessThanOrEqual(width);
    }
    expect(renderLiveView(midRun(), { ...plain, width })).toContain(`  ${COMMAND}`);
  }
});

test('colour only when asked for: no escape sequence at all without it', () => {
  const plainText = renderLiveView(midRun(), { ...plain, width: 100 }).join('\n');
  expect(plainText).not.toMatch(/\x1b/);
  const coloured = renderLiveView(midRun(), { ...plain, width: 100, colours: colours(true) }).join('\n');
  expect(coloured).toContain('\x1b[33mwaiting-at-barrier'); // yellow: waiting
  // Colour changes nothing but the escapes.
  expect(coloured.replace(/\x1b\[\d+m/g, '')).toBe(plainText);
});

test('an ended pipeline shows how each barrier resolved and each workflow ended', () => {
  const ended = midRun();
  ended.status = 'failed';
  ended.endedAt = new Date(T0 + 70_000).toISOString();
  ended.barriers[0] = {
    ...ended.barriers[0]!,
    status: 'timed-out',
    resolvedAt: new Date(T0 + 65_000).toISOString(),
    reason: 'timed out waiting for search',
  };
  delete ended.barriers[0].deadline;
  const text = renderLiveView(ended, { ...plain, width: 160 }).join('\n');
  expect(text).toContain('· failed · 1m 10s'); // elapsed stops at the end, not at now
  expect(text).toMatch(
    /timed-out +1\/3 +search, orders\[eu\] +timed-out at \+1m 05s: timed out waiting for search/,
  );
});

test('currentStep: the step still going, else the last one with how it ended', () => {
  const [payments, search, orders, smoke] = midRun().workflows;
  expect(currentStep(payments!)).toBe('2. all-deployed (barrier)');
  expect(currentStep(search!)).toBe('1. deploy (shell, attempt 2)');
  expect(currentStep(orders!)).toBe('1. migrate (shell) failed — step-failed: exit code 1');
  expect(currentStep(smoke!)).toBe('');
  expect(currentStep({ ...payments!, status: 'succeeded', steps: payments!.steps.slice(0, 1) })).toBe(
    '1. deploy (shell) succeeded',
  );
});

test('currentStep: a parallel step shows where each branch is, and once ended the branches that failed', () => {
  const [payments] = midRun().workflows;
  const rollout = {
    name: 'rollout',
    type: 'parallel',
    status: 'running' as const,
    attempts: 1,
    branches: [
      {
        name: 'canary',
        participant: 'app/canary',
        status: 'waiting-at-barrier' as const,
        steps: [{ name: 'canary-cut', type: 'barrier', status: 'waiting' as const, attempts: 1 }],
      },
      {
        name: 'migrate',
        participant: 'app/migrate',
        status: 'running' as const,
        steps: [{ name: 'migrate-db', type: 'shell', status: 'running' as const, attempts: 1 }],
      },
    ],
  };
  const app = { ...payments!, name: 'app', steps: [rollout] };
  expect(currentStep(app)).toBe(
    '1. rollout (parallel) — canary waiting-at-barrier (canary-cut), migrate running (migrate-db)',
  );
  const ended = {
    ...app,
    status: 'aborted' as const,
    steps: [
      {
        ...rollout,
        status: 'failed' as const,
        error: { type: 'branch-failed', message: 'app/migrate failed' },
        branches: [
          { ...rollout.branches[0]!, status: 'cancelled' as const },
          { ...rollout.branches[1]!, status: 'failed' as const },
        ],
      },
    ],
  };
  expect(currentStep(ended)).toBe(
    '1. rollout (parallel) failed — branch-failed: app/migrate failed — canary cancelled, migrate failed',
  );
});
