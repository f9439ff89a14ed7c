/**
 * What `npm pack` ships: what users need (the built library and its types, the `convoy` command,
 * the workflow bundle, the JSON Schema, the dev server's dynamic config), and nothing of the
 * development (tests, benchmark, fixtures, example scripts, sources, source maps). Then the packed
 * package itself, unpacked as `npm install` would lay it out: its entry point, schema subpath
 * and command work from there alone.
 */
import { execFile } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const repo = resolve(__dirname, '..', '..');
const execFileAsync = promisify(execFile);

interface PackResult {
  filename: string;
  files: { path: string }[];
}

/** `npm pack --json`, without the `prepare` build: the tests run on what `npm ci` built. */
async function npmPack(...args: string[]): Promise<PackResult> {
  const { stdout } = await execFileAsync('npm', ['pack', '--json', '--ignore-scripts', ...args], {
    cwd: repo,
    maxBuffer: 16 * 1024 * 1024,
  });
  return (JSON.parse(stdout) as PackResult[])[0]!;
}

const cleanup: string[] = [];
afterAll(() => {
  for (const dir of cleanup) rmSync(dir, { recursive: true, force: true });
});

beforeAll(() => {
  if (!existsSync(join(repo, 'dist', 'workflow-bundle.js'))) {
    throw new Error('dist/ is missing: run `npm ci` or `npm run build` before the package tests');
  }
});

test('npm pack --dry-run lists what users need and no test, bench, fixture or source file', async () => {
  const files = (await npmPack('--dry-run')).files.map((file) => file.path);
  for (const needed of [
    'package.json',
    'README.md',
    'bin/convoy',
    'dist/src/index.js',
    'dist/src/index.d.ts',
    'dist/src/cli/main.js',
    'dist/src/client/convoy-client.d.ts',
    'dist/workflow-bundle.js',
    'schema/pipeline.schema.json',
    'config/temporal/dynamic-config.yaml',
  ]) {
    expect(files).toContain(needed);
  }
  const unwanted = files.filter((path) =>
    /^(test|bench|dist-bench|src|workers|\.convoy|\.ci|coverage|examples\/scripts|dist\/examples)\/|fixture|\.test\.|\.map$|tsbuildinfo/.test(
      path,
    ),
  );
  expect(unwanted).toEqual([]);
});

test('the packed package works on its own: entry point, types, schema subpath, the convoy command', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'convoy-pack-'));
  cleanup.push(dir);
  const { filename } = await npmPack('--pack-destination', dir);
  mkdirSync(join(dir, 'node_modules'));
  await execFileAsync('tar', ['-xzf', join(dir, filename), '-C', join(dir, 'node_modules')]);
  renameSync(join(dir, 'node_modules', 'package'), join(dir, 'node_modules', 'convoy-pipelines'));
  const installed = join(dir, 'node_modules', 'convoy-pipelines');
  // The package's dependencies come from the repository's node_modules, as if installed beside it.
  const env = { ...process.env, NODE_PATH: join(repo, 'node_modules') };

  // Every file package.json points at is in the package.
  const manifest = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')) as {
    main: string;
    types: string;
    bin: Record<string, string>;
    exports: Record<string, string | Record<string, string>>;
  };
  const targets = [
    manifest.main,
    manifest.types,
    ...Object.values(manifest.bin),
    ...Object.values(manifest.exports).flatMap((target) =>
      typeof target === 'string' ? [target] : Object.values(target),
    ),
  ];
  expect(targets.filter((target) => !existsSync(join(installed, target)))).toEqual([]);

  const probe = `
    const convoy = require('convoy-pipelines');
    console.log(JSON.stringify({
      client: typeof convoy.ConvoyClient,
      valid: convoy.validatePipeline(process.argv[1]).valid,
      schema: require.resolve('convoy-pipelines/pipeline.schema.json'),
    }));`;
  const example = join(installed, 'examples', 'microservice-release.yaml');
  const { stdout } = await execFileAsync(process.execPath, ['-e', probe, example], { cwd: dir, env });
  expect(JSON.parse(stdout)).toEqual({
    client: 'function',
    valid: true,
    schema: join(installed, 'schema', 'pipeline.schema.json'),
  });

  const validate = await execFileAsync(
    process.execPath,
    [join(installed, 'bin', 'convoy'), 'validate', join(installed, 'examples', 'db-migration-rollout.yaml')],
    { cwd: dir, env },
  );
  expect(validate.stdout).toMatch(/db-migration-rollout\.yaml: OK/);
});

test("a TypeScript script type-checks against the packed package's declarations, and a wrong option fails it", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'convoy-pack-types-'));
  cleanup.push(dir);
  const { filename } = await npmPack('--pack-destination', dir);
  mkdirSync(join(dir, 'node_modules'));
  await execFileAsync('tar', ['-xzf', join(dir, filename), '-C', join(dir, 'node_modules')]);
  renameSync(join(dir, 'node_modules', 'package'), join(dir, 'node_modules', 'convoy-pipelines'));
  // Its dependencies (and @types/node) beside it, as `npm install` would put them; the compiler
  // follows symbolic links but not NODE_PATH.
  for (const name of readdirSync(join(repo, 'node_modules'))) {
    if (name !== '.bin' && name !== 'convoy-pipelines')
      symlinkSync(join(repo, 'node_modules', name), join(dir, 'node_modules', name));
  }
  const script = (reason: string) => `
    import { ConvoyClient, PipelineValidationError, type PipelineEvent, type PipelineResult } from 'convoy-pipelines';
    export async function release(): Promise<PipelineResult> {
      const client = await ConvoyClient.connect();
      const pipeline = await client.start('release.yaml', { id: 'release-42', variables: { v: '1' }, taskQueue: 'q' });
      for await (const event of pipeline.watch()) {
        const type: PipelineEvent['type'] = event.type;
        if (type === 'barrier-arrival') await pipeline.releaseBarrier({ stage: 'deploy', identifier: 'gate', reason: ${reason} });
      }
      return pipeline.result();
    }
    export const isInvalid = (error: unknown): boolean => error instanceof PipelineValidationError;
  `;
  writeFileSync(join(dir, 'good.ts'), script("'known slow'"));
  writeFileSync(join(dir, 'bad.ts'), script('42'));
  /** The compiler's diagnostics for both scripts: only bad.ts's wrong option may be reported. */
  const typeCheck = async (moduleResolution: 'node16' | 'node10'): Promise<string> => {
    const args = [
      join(repo, 'node_modules', 'typescript', 'bin', 'tsc'),
      ...['--noEmit', '--strict', '--target', 'es2022', '--types', 'node', '--skipLibCheck'],
      ...[
        '--module',
        moduleResolution === 'node16' ? 'node16' : 'commonjs',
        '--moduleResolution',
        moduleResolution,
      ],
      'good.ts',
      'bad.ts',
    ];
    try {
      await execFileAsync(process.execPath, args, { cwd: dir });
      return '';
    } catch (error) {
      return (error as { stdout: string }).stdout.trim();
    }
  };
  // node16 reads `exports` (its `types` condition), node10 the top-level `types`. Were the
  // declarations missing or unresolvable, the client would be `any` and bad.ts would pass.
  for (const resolution of ['node16', 'node10'] as const) {
    expect({ resolution, errors: await typeCheck(resolution) }).toEqual({
      resolution,
      errors: expect.stringMatching(
        /^bad\.ts\(\d+,\d+\): error TS2322: Type 'number' is not assignable to type 'string'\.$/,
      ),
    });
  }
});
