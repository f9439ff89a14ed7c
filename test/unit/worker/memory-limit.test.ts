/** Reading the container's memory limit from cgroup files, in fake cgroup folders. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryLimitError, readMemoryLimit } from '../../../src/worker/memory-limit';

const GiB = 2 ** 30;
const host = 24 * GiB;
let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'convoy-cgroup-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

const v2 = (text: string) => writeFileSync(join(root, 'memory.max'), text);
const v1 = (text: string) => {
  mkdirSync(join(root, 'memory'), { recursive: true });
  writeFileSync(join(root, 'memory', 'memory.limit_in_bytes'), text);
};

test('cgroup v2: memory.max in bytes', () => {
  v2(`${2 * GiB}\n`);
  expect(readMemoryLimit(root, host)).toEqual({
    bytes: 2 * GiB,
    source: `cgroup v2 ${join(root, 'memory.max')}`,
  });
});

test('cgroup v1: memory/memory.limit_in_bytes', () => {
  v1(`${GiB}\n`);
  expect(readMemoryLimit(root, host)).toEqual({
    bytes: GiB,
    source: `cgroup v1 ${join(root, 'memory', 'memory.limit_in_bytes')}`,
  });
});

test('v2 wins when both exist', () => {
  v2(String(GiB));
  v1(String(2 * GiB));
  expect(readMemoryLimit(root, host).bytes).toBe(GiB);
});

test('no limit: "max", v1\'s near-2^63 "unlimited", a limit above the host, or no file at all mean the host\'s memory', () => {
  v2('max\n');
  expect(readMemoryLimit(root, host)).toEqual({
    bytes: host,
    source: `host memory, no limit in ${join(root, 'memory.max')}`,
  });
  rmSync(join(root, 'memory.max'));
  v1('9223372036854771712\n');
  expect(readMemoryLimit(root, host)).toMatchObject({
    bytes: host,
    source: expect.stringMatching(/^host memory/),
  });
  v1(String(32 * GiB));
  expect(readMemoryLimit(root, host).bytes).toBe(host);
  rmSync(join(root, 'memory'), { recursive: true });
  expect(readMemoryLimit(root, host)).toEqual({
    bytes: host,
    source: `host memory, no cgroup memory limit under ${root}`,
  });
  expect(readMemoryLimit(join(root, 'missing'), host).bytes).toBe(host);
});

test('a file that is neither a number nor "max" is an error naming the file', () => {
  v2('lots\n');
  expect(() => readMemoryLimit(root, host)).toThrow(
    new MemoryLimitError(`${join(root, 'memory.max')}: expected a byte count or "max", got "lots"`),
  );
});
