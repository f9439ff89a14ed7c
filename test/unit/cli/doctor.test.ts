/** `convoy doctor`'s report: one line per check, then each problem with its fix. */
import { formatDoctorReport } from '../../../src/cli/doctor';

test('all well: every check ticked and a verdict', () => {
  expect(
    formatDoctorReport([
      { label: 'connection', detail: 'x:7233, namespace default (plaintext)' },
      { label: 'timer precision', detail: 'a 100 ms timer fires 3 ms late' },
    ]),
  ).toBe(
    [
      '✓ connection       x:7233, namespace default (plaintext)',
      '✓ timer precision  a 100 ms timer fires 3 ms late',
      '',
      'Convoy is ready to run on this Temporal service.',
    ].join('\n'),
  );
});

test('a problem is crossed and its fix listed', () => {
  const text = formatDoctorReport([
    { label: 'connection', detail: 'x:7233' },
    {
      label: 'workers',
      detail: 'convoy: 0 workflow and 0 activity pollers',
      problem: { fix: 'run convoy worker' },
    },
  ]);
  expect(text).toContain('✗ workers     convoy: 0 workflow and 0 activity pollers');
  expect(text).toMatch(/1 problem:\n- workers: run convoy worker$/);
});
