/** The dynamic config Convoy ships and how it reaches the dev server's command line. */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { dynamicConfigArgs, readDynamicConfig } from '../../../src/dev-server/dynamic-config';
import {
  BLOB_SIZE_LIMIT_BYTES,
  BLOB_SIZE_WARN_BYTES,
  MAX_DOCUMENT_BYTES,
  MAX_PLAN_BYTES,
} from '../../../src/model/message-size';

const file = (text: string): string => {
  const path = join(mkdtempSync(join(tmpdir(), 'convoy-dc-')), 'dynamic-config.yaml');
  writeFileSync(path, text);
  return path;
};

test('the shipped file sets timer precision, lifts the queue poll limits and the event buffer, caps payloads', () => {
  expect(readDynamicConfig()).toEqual({
    'history.timerProcessorMaxTimeShift': '10ms',
    'history.transferProcessorMaxPollRPS': 1000,
    'history.timerProcessorMaxPollRPS': 1000,
    'history.maximumBufferedEventsBatch': 1000,
    'limit.blobSize.error': BLOB_SIZE_LIMIT_BYTES,
    'limit.blobSize.warn': BLOB_SIZE_WARN_BYTES,
  });
});

test("the payload limit holds Convoy's largest messages with room for their envelope, and not a 1 MB signal", () => {
  expect(BLOB_SIZE_LIMIT_BYTES).toBeLessThan(1_000_000);
  expect(BLOB_SIZE_LIMIT_BYTES - Math.max(MAX_PLAN_BYTES, MAX_DOCUMENT_BYTES)).toBeGreaterThanOrEqual(
    64 * 1024,
  );
  expect(BLOB_SIZE_WARN_BYTES).toBeGreaterThan(Math.max(MAX_PLAN_BYTES, MAX_DOCUMENT_BYTES));
});

test("Convoy's largest payloads fit a stock server: within its warning (512 KiB), a quarter of its error (2 MiB)", () => {
  expect(Math.max(MAX_PLAN_BYTES, MAX_DOCUMENT_BYTES)).toBeLessThanOrEqual(512 * 1024);
});

test('each key becomes one --dynamic-config-value flag with a JSON value', () => {
  expect(
    dynamicConfigArgs({ 'history.timerProcessorMaxTimeShift': '10ms', 'history.x': 5, 'a.b': true }),
  ).toEqual([
    '--dynamic-config-value',
    'history.timerProcessorMaxTimeShift="10ms"',
    '--dynamic-config-value',
    'history.x=5',
    '--dynamic-config-value',
    'a.b=true',
  ]);
});

test('a malformed file is rejected naming the file and the key', () => {
  const bad = file('history.timerProcessorMaxTimeShift:\n  - value: 10ms\n  - value: 20ms\n');
  expect(() => readDynamicConfig(bad)).toThrow(
    `${bad}: history.timerProcessorMaxTimeShift: Convoy ships exactly one global value per key`,
  );
  const badKey = file('NotAKey:\n  - value: 1\n');
  expect(() => readDynamicConfig(badKey)).toThrow(/NotAKey: expected a dynamic config key/);
  const extra = file('history.x:\n  - value: 1\n    colour: blue\n');
  expect(() => readDynamicConfig(extra)).toThrow(/history\.x\.0/);
});

test('the Helm values in the READMEs carry every key of the shipped file, blob size caps included', () => {
  const shipped = readDynamicConfig();
  for (const readme of ['README.md', join('workers', 'k8s', 'README.md')]) {
    const text = readFileSync(join(__dirname, '..', '..', '..', readme), 'utf8');
    const blocks = [...text.matchAll(/```yaml\n(server:\n {2}dynamicConfig:\n[\s\S]*?)```/g)];
    expect([readme, blocks.length]).toEqual([readme, 1]);
    const values = parse(blocks[0]![1]!) as {
      server: { dynamicConfig: Record<string, [{ value: unknown }]> };
    };
    const keys = Object.fromEntries(
      Object.entries(values.server.dynamicConfig).map(([key, [{ value }]]) => [key, value]),
    );
    expect([readme, keys]).toEqual([readme, shipped]);
  }
});
