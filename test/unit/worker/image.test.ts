/**
 * workers/Dockerfile, without a Docker engine: parsed and checked — a build stage, then a final
 * stage holding only the npm package's own file set with production dependencies (no bench, no
 * tests, no sources), non-root, its variables known to the worker — and .dockerignore keeping
 * everything else out of the context. The entry point that sizes V8's heap to the container runs
 * for real against fake cgroup files.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CONNECTION_VARIABLES } from '../../../src/connection/config';
import { WorkerVariables } from '../../../src/worker/settings';
import { V8_HEAP_PERCENT } from '../../../src/worker/sizing';

const root = join(__dirname, '..', '..', '..');
const entrypoint = join(root, 'workers', 'entrypoint.sh');

interface Instruction {
  keyword: string;
  args: string;
}

/** Dockerfile instructions: comments dropped, `\` continuations joined. */
function parseDockerfile(text: string): Instruction[] {
  const logical = text
    .split('\n')
    .filter((line) => !/^\s*#/.test(line))
    .join('\n')
    .replace(/\\\n/g, ' ');
  return logical
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
    .map((line) => {
      const [keyword, ...rest] = line.split(/\s+/);
      return { keyword: keyword!.toUpperCase(), args: rest.join(' ') };
    });
}

/** Splits into stages at FROM. */
function stages(instructions: Instruction[]): Instruction[][] {
  const result: Instruction[][] = [];
  for (const instruction of instructions) {
    if (instruction.keyword === 'FROM') result.push([]);
    result[result.length - 1]!.push(instruction);
  }
  return result;
}

/** Whether .dockerignore keeps `path` out of the build context (last matching pattern wins). */
function ignored(path: string, patterns: string[]): boolean {
  let result = false;
  for (const raw of patterns) {
    const negated = raw.startsWith('!');
    const pattern = (negated ? raw.slice(1) : raw).replace(/\/$/, '');
    const matches = pattern === '*' || path === pattern || path.startsWith(`${pattern}/`);
    if (matches) result = !negated;
  }
  return result;
}

const dockerfile = parseDockerfile(readFileSync(join(root, 'workers', 'Dockerfile'), 'utf8'));
const [build, final] = stages(dockerfile) as [Instruction[], Instruction[]];
const dockerignore = readFileSync(join(root, '.dockerignore'), 'utf8')
  .split('\n')
  .map((line) => line.trim())
  .filter((line) => line && !line.startsWith('#'));

test('two stages: a build stage, then a final stage with only the packed package and the entry point', () => {
  expect(stages(dockerfile)).toHaveLength(2);
  expect(build[0]!.args).toMatch(/^node:20\S* AS build$/);
  expect(final[0]!.args).toMatch(/^node:20\S*$/);
  const copies = final.filter((i) => i.keyword === 'COPY' || i.keyword === 'ADD');
  expect(copies.map((i) => i.args)).toEqual([
    '--chmod=0755 workers/entrypoint.sh /usr/local/bin/convoy-entrypoint',
    '--from=build /app /app',
  ]);
  // /app in the build stage is `npm pack`'s output and production dependencies, nothing else.
  const appRun = build.find((i) => i.keyword === 'RUN' && i.args.includes('npm pack'))!;
  expect(appRun.args).toMatch(/npm pack --ignore-scripts --pack-destination \/tmp/);
  expect(appRun.args).toMatch(/tar -xzf \/tmp\/convoy-pipelines-\*\.tgz -C \/app/);
  expect(appRun.args).toMatch(/npm ci --omit=dev/);
  expect(build.filter((i) => i.args.includes('/app') && i.keyword !== 'RUN')).toEqual([]);
});

test("the package's file set, which the image ships, has the build and the bundle but no bench, tests or sources", () => {
  const files: string[] = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).files;
  expect(files).toEqual(expect.arrayContaining(['bin/convoy', 'dist/src/', 'dist/workflow-bundle.js']));
  expect(files.filter((f) => /^(bench|test|src|dist-bench)\b/.test(f))).toEqual([]);
  expect(files).toContain('!dist/**/*.map');
});

test('runs as a numeric non-root user, the worker as command under tini', () => {
  const users = final.filter((i) => i.keyword === 'USER').map((i) => i.args);
  expect(users).toHaveLength(1);
  const [uid, gid] = users[0]!.split(':').map(Number);
  expect(uid).toBeGreaterThan(0);
  expect(gid).toBeGreaterThan(0);
  const json = (keyword: string) => JSON.parse(final.find((i) => i.keyword === keyword)!.args) as string[];
  expect(json('ENTRYPOINT')).toEqual(['/usr/bin/tini', '--', '/usr/local/bin/convoy-entrypoint']);
  expect(json('CMD')).toEqual(['node', '/app/bin/convoy', 'worker']);
});

test('its environment names only variables the worker reads; it exposes the health and metrics ports', () => {
  const env = Object.fromEntries(
    final
      .filter((i) => i.keyword === 'ENV')
      .flatMap((i) => i.args.split(/\s+/))
      .map((pair) => pair.split('=') as [string, string]),
  );
  const known = new Set<string>([...Object.values(WorkerVariables), ...CONNECTION_VARIABLES, 'NODE_ENV']);
  expect(Object.keys(env).filter((name) => !known.has(name))).toEqual([]);
  const exposed = final.filter((i) => i.keyword === 'EXPOSE').flatMap((i) => i.args.split(/\s+/));
  expect(exposed.sort()).toEqual([env[WorkerVariables.healthPort], env[WorkerVariables.metricsPort]].sort());
});

test('.dockerignore lets in what the build stage copies, and keeps out bench, tests and local state', () => {
  const sources = build
    .filter((i) => i.keyword === 'COPY')
    .flatMap((i) =>
      i.args
        .split(/\s+/)
        .filter((a) => !a.startsWith('--'))
        .slice(0, -1),
    );
  expect(sources.length).toBeGreaterThan(5);
  for (const source of sources) {
    expect([source, existsSync(join(root, source))]).toEqual([source, true]);
    expect([source, ignored(source, dockerignore)]).toEqual([source, false]);
  }
  expect(ignored('workers/entrypoint.sh', dockerignore)).toBe(false);
  for (const path of [
    'bench',
    'test',
    'node_modules',
    'dist',
    'dist-bench',
    '.convoy',
    '.git',
    'workers/k8s',
  ]) {
    expect([path, ignored(path, dockerignore)]).toEqual([path, true]);
  }
});

describe('the entry point sizes V8 to the container', () => {
  const printHeap = [
    'node',
    '-e',
    "console.log(require('v8').getHeapStatistics().heap_size_limit, process.env.NODE_OPTIONS || '')",
  ];
  const cgroup = (files: Record<string, string>) => {
    const dir = mkdtempSync(join(tmpdir(), 'convoy-cgroup-'));
    for (const [name, content] of Object.entries(files)) {
      mkdirSync(join(dir, name, '..'), { recursive: true });
      writeFileSync(join(dir, name), content);
    }
    return dir;
  };
  const run = (env: NodeJS.ProcessEnv) => {
    const result = spawnSync('sh', [entrypoint, ...printHeap], {
      env: { PATH: process.env.PATH, ...env },
      encoding: 'utf8',
    });
    const [limit, ...options] = result.stdout.trim().split(' ');
    return {
      status: result.status,
      stderr: result.stderr,
      heapMb: Number(limit) / 2 ** 20,
      nodeOptions: options.join(' '),
    };
  };

  test(`its default share is sizing.ts's V8_HEAP_PERCENT (${V8_HEAP_PERCENT}%)`, () => {
    expect(readFileSync(entrypoint, 'utf8')).toContain(
      `percent="\${CONVOY_V8_HEAP_PERCENT:-${V8_HEAP_PERCENT}}"`,
    );
  });

  test(`cgroup v2 limit of 1 GiB: old space ${V8_HEAP_PERCENT}% of it (whole MiB)`, () => {
    const result = run({ CONVOY_CGROUP_ROOT: cgroup({ 'memory.max': `${2 ** 30}\n` }) });
    const oldSpaceMb = Math.floor((1024 * V8_HEAP_PERCENT) / 100);
    expect(result.nodeOptions).toBe(`--max-old-space-size=${oldSpaceMb}`);
    // heap_size_limit is the old space plus the young generation.
    expect(result.heapMb).toBeGreaterThanOrEqual(oldSpaceMb);
    expect(result.heapMb).toBeLessThan(oldSpaceMb + 132);
  });

  test('cgroup v1, a chosen percentage, and existing NODE_OPTIONS kept', () => {
    const v1 = cgroup({ 'memory/memory.limit_in_bytes': `${2 * 2 ** 30}\n` });
    expect(
      run({ CONVOY_CGROUP_ROOT: v1, CONVOY_V8_HEAP_PERCENT: '50', NODE_OPTIONS: '--enable-source-maps' })
        .nodeOptions,
    ).toBe('--enable-source-maps --max-old-space-size=1024');
    expect(run({ CONVOY_CGROUP_ROOT: v1, NODE_OPTIONS: '--max-old-space-size=300' }).nodeOptions).toBe(
      '--max-old-space-size=300',
    );
  });

  test('no limit ("max", or v1\'s near-2^63): V8 keeps its default', () => {
    expect(run({ CONVOY_CGROUP_ROOT: cgroup({ 'memory.max': 'max\n' }) }).nodeOptions).toBe('');
    expect(
      run({ CONVOY_CGROUP_ROOT: cgroup({ 'memory/memory.limit_in_bytes': '9223372036854771712\n' }) })
        .nodeOptions,
    ).toBe('');
  });

  test('a bad CONVOY_V8_HEAP_PERCENT exits 2 naming it, before Node starts', () => {
    const result = run({ CONVOY_CGROUP_ROOT: cgroup({}), CONVOY_V8_HEAP_PERCENT: '150' });
    expect(result.status).toBe(2);
    expect(result.stderr).toBe('convoy: CONVOY_V8_HEAP_PERCENT=150: expected a percentage from 10 to 95\n');
  });

  test('it is valid POSIX sh', () => {
    expect(() => execFileSync('sh', ['-n', entrypoint])).not.toThrow();
  });
});
