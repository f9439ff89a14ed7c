/** Text for the terminal: widths as terminals count them, columns that fit, colour that switches off. */
import {
  colours,
  formatDuration,
  inertText,
  interveneCommand,
  layoutColumns,
  textWidth,
  timeLeft,
  truncateToWidth,
  wantsColour,
} from '../../../src/cli/terminal-text';

test('truncateToWidth counts terminal columns: wide characters take two', () => {
  expect(truncateToWidth('deploy-payments', 8)).toBe('deploy-…');
  expect(truncateToWidth('short', 8)).toBe('short');
  expect(truncateToWidth('部署支付服务', 5)).toBe('部署…'); // 2 + 2 + 1
  expect(textWidth(truncateToWidth('部署支付服务', 5))).toBeLessThanOrEqual(5);
  expect(truncateToWidth('anything', 0)).toBe('');
});

test('layoutColumns fits every width, cutting the widest column first', () => {
  const rows = [
    [
      { text: 'orders[eu]' },
      { text: 'waiting-for-intervention' },
      { text: 'a long description of the current step '.repeat(3) },
    ],
    [{ text: 'payments' }, { text: 'running' }, { text: 'deploy (shell)' }],
  ];
  for (let width = 20; width <= 200; width += 7) {
    for (const line of layoutColumns(rows, width)) expect(textWidth(line)).toBeLessThanOrEqual(width);
  }
  const wide = layoutColumns(rows, 300);
  expect(wide[0]).toContain('a long description of the current step a long');
  expect(wide[1]).toMatch(/^payments {4}running/); // padded to the widest cell, two spaces apart
  const narrow = layoutColumns(rows, 60);
  expect(narrow[0]).toMatch(/^orders\[eu\] {2}waiting-for-intervention {2}a long .*…$/);
});

test('colour is applied after cutting, so escapes never count toward the width', () => {
  const c = colours(true);
  const [line] = layoutColumns([[{ text: 'failed-badly', paint: c.red }, { text: 'x' }]], 10, 3);
  expect(line).toContain('\x1b[31m');
  expect(textWidth(line!)).toBeLessThanOrEqual(10);
  expect(colours(false).red('plain')).toBe('plain');
});

test('colour only on a terminal, and never with NO_COLOR set to something', () => {
  expect(wantsColour(true, {})).toBe(true);
  expect(wantsColour(false, {})).toBe(false);
  expect(wantsColour(undefined, {})).toBe(false);
  expect(wantsColour(true, { NO_COLOR: '1' })).toBe(false);
  expect(wantsColour(true, { NO_COLOR: '' })).toBe(true); // no-color.org: empty means unset
});

test('durations and time left read like a person would say them', () => {
  expect(formatDuration(999)).toBe('0s');
  expect(formatDuration(42_000)).toBe('42s');
  expect(formatDuration(245_000)).toBe('4m 05s');
  expect(formatDuration(7_380_000)).toBe('2h 03m');
  expect(formatDuration(100_800_000)).toBe('1d 4h');
  expect(timeLeft('2026-01-01T00:01:00.000Z', Date.parse('2026-01-01T00:00:00.000Z'))).toBe('1m 00s left');
  expect(timeLeft('2026-01-01T00:01:00.000Z', Date.parse('2026-01-01T00:02:00.000Z'))).toBe('overdue');
});

test('the intervene command quotes what the shell would interpret, and lists every decision', () => {
  expect(interveneCommand('release-42', 'payments')).toBe(
    'convoy intervene release-42 payments --action <retry|ignore|abort|rollback|mark-success>',
  );
  expect(interveneCommand('release 42', 'orders[eu]')).toBe(
    "convoy intervene 'release 42' 'orders[eu]' --action <retry|ignore|abort|rollback|mark-success>",
  );
});

test('inertText escapes control characters in every string and key of a document, leaving the rest', () => {
  const doc = {
    pipelineId: 'p',
    steps: [{ error: { message: 'stderr: \u001b]0;pwned\u0007\u001b[2Jgone\nnext' }, attempt: 2, ok: true }],
    arrivals: { 'w\u009b': '2026-01-01T00:00:00.000Z' },
    none: null,
  };
  expect(inertText(doc)).toEqual({
    pipelineId: 'p',
    steps: [{ error: { message: 'stderr: \\x1b]0;pwned\\x07\\x1b[2Jgone\\nnext' }, attempt: 2, ok: true }],
    arrivals: { 'w\\x9b': '2026-01-01T00:00:00.000Z' },
    none: null,
  });
  expect(doc.steps[0]!.error.message).toContain('\u001b'); // a copy: the document itself is left as it was
});
