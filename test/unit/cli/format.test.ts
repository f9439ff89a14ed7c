/** The final result as `convoy run` and `convoy status` print it. */
import { formatPipelineResult } from '../../../src/cli/format';
import { textWidth } from '../../../src/cli/terminal-text';
import { midRun } from './fixtures';

test('on a terminal the tables wrap their cells to fit its width, losing no word', () => {
  const doc = midRun();
  doc.workflows[2]!.steps[0]!.error!.message = `migration 0042_add_index failed: ${'relation "orders" is locked; '.repeat(4)}`;
  for (const width of [50, 64, 80, 120]) {
    const text = formatPipelineResult(doc, width);
    const tableLines = text.split('\n').filter((line) => /^[┌│├└]/.test(line));
    expect(tableLines.length).toBeGreaterThan(10);
    for (const line of tableLines) expect(textWidth(line)).toBeLessThanOrEqual(width);
    expect(text.replace(/[\s│]+/g, '')).toContain('migration0042_add_indexfailed:relation"orders"islocked;');
  }
});

test('without a width (a pipe, a file) nothing is wrapped', () => {
  const text = formatPipelineResult(midRun());
  expect(text).toMatch(
    /│ orders\[eu\] +│ deploy +│ waiting-for-intervention +│ migrate \(shell\) failed — step-failed: exit code 1 +│/,
  );
  expect(text).not.toMatch(/\x1b/);
});

test('a parallel step lists its branches, each with its participant, status and steps', () => {
  const doc = midRun();
  doc.workflows[0]!.steps = [
    {
      name: 'rollout',
      type: 'parallel',
      status: 'succeeded',
      attempts: 1,
      branches: [
        {
          name: 'canary',
          participant: 'payments/canary',
          status: 'succeeded',
          steps: [{ name: 'canary-cut', type: 'barrier', status: 'succeeded', attempts: 1 }],
        },
      ],
    },
  ];
  const lines = formatPipelineResult(doc).split('\n');
  const at = lines.findIndex((line) => line.includes('rollout (parallel) succeeded'));
  expect(lines[at + 1]).toMatch(/│ {3}⑂ payments\/canary succeeded +│$/);
  expect(lines[at + 2]).toMatch(/│ {5}canary-cut \(barrier\) succeeded +│$/);
});
