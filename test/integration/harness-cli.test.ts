/**
 * `convoy import harness` and `convoy run --from harness` as users run them: real processes
 * (`./bin/convoy`, built into dist/), real exit codes, on the real dev server.
 */
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipelineResultSchema } from '../../src/model/result';
import { connectTestEnv, runConvoy, type TestEnv } from './harness';

const FIXTURES = join(__dirname, '..', 'fixtures', 'harness');
const dir = mkdtempSync(join(tmpdir(), 'convoy-harness-cli-'));
const unmapped = join(FIXTURES, 'nextgen', 'errors', 'unmapped-steps.yaml');

let env: TestEnv;
let serverEnv: NodeJS.ProcessEnv;
beforeAll(async () => {
  if (!existsSync(join(__dirname, '..', '..', 'dist', 'src', 'cli', 'main.js'))) {
    throw new Error('dist/ is missing: run `npm ci` or `npm run build` before the CLI tests');
  }
  env = await connectTestEnv('harness-cli');
  await env.startWorker();
  serverEnv = {
    TEMPORAL_ADDRESS: process.env.CONVOY_TEST_TEMPORAL_ADDRESS!,
    TEMPORAL_TASK_QUEUE: env.taskQueue,
  };
});
afterAll(() => env.close());

test('import, validate and run as separate commands; run --from harness with a mapping file does all three', async () => {
  const looped = join(FIXTURES, 'firstgen', 'looped');
  const out = join(dir, 'regions.yaml');
  const mapFile = join(dir, 'team-mappings.yaml');
  writeFileSync(
    mapFile,
    'K8sRollingDeploy: echo "rolling out $HARNESS_STEP_ID"\nK8sRollingRollback: "true"\n',
  );

  const [separate, together] = await Promise.all([
    (async () => {
      const imported = await runConvoy([
        'import',
        'harness',
        ...readdirSync(looped).map((f) => join(looped, f)),
        '-o',
        out,
      ]);
      expect({ code: imported.code, stderr: imported.stderr }).toEqual({
        code: 0,
        stderr: `imported Harness FirstGen pipeline as 'regions' into ${out}: 1 stage, 3 workflows, 1 barrier\n`,
      });
      const validated = await runConvoy(['validate', out]);
      expect(validated.stdout).toBe(`${out}: OK (pipeline 'regions': 1 stage, 3 workflows, 1 barrier)\n`);
      return runConvoy(['run', out, '--json'], serverEnv);
    })(),
    runConvoy(
      [
        'run',
        '--from',
        'harness',
        unmapped,
        '--map-file',
        mapFile,
        '--map',
        'HarnessApproval=echo approved',
        '--json',
      ],
      serverEnv,
    ),
  ]);

  expect(separate.code).toBe(0);
  const regions = pipelineResultSchema.parse(JSON.parse(separate.stdout));
  expect(regions.status).toBe('succeeded');
  expect(regions.barriers[0]).toMatchObject({ identifier: 'regions-deployed', status: 'crossed' });

  expect(together.code).toBe(0);
  const release = pipelineResultSchema.parse(JSON.parse(together.stdout));
  expect(release.status).toBe('succeeded');
  expect(release.pipelineId).toMatch(/^k8s_release-/);
  const rollout = release.workflows.find((w) => w.name === 'web')!.steps[0]!;
  expect(rollout.output?.stdoutTail).toContain('rolling out rollout');
});

test('an unmapped step: import lists it with its path and exits 2; run --from harness starts nothing', async () => {
  const [imported, run] = await Promise.all([
    runConvoy(['import', 'harness', unmapped, '-o', join(dir, 'never.yaml')]),
    runConvoy(['run', '--from', 'harness', unmapped], { TEMPORAL_ADDRESS: '127.0.0.1:1' }),
  ]);
  expect(imported.code).toBe(2);
  expect(existsSync(join(dir, 'never.yaml'))).toBe(false);
  expect(imported.stderr).toContain(
    `${unmapped}: pipeline.stages[0].parallel[0].stage.spec.execution.steps[2].stepGroup.steps[0].step: step type 'HarnessApproval' has no Convoy equivalent`,
  );
  expect(imported.stderr.trim().split('\n')).toHaveLength(5); // four steps and the closing line
  expect(run.code).toBe(2); // before any connection: the address is unreachable
  expect(run.stderr).not.toMatch(/cannot reach Temporal/);
});
