/**
 * `convoy import harness` and the import half of `convoy run --from harness`, in process: what is
 * printed where, what is written, and the exit codes. Nothing here reaches Temporal: invalid input
 * must stop every command before it connects (the integration tests run imported pipelines).
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../../src/cli/main';
import { compilePipeline } from '../../../src/pipeline-file';

const FIXTURES = join(__dirname, '..', '..', 'fixtures', 'harness');
const dir = mkdtempSync(join(tmpdir(), 'convoy-import-cli-'));

async function convoy(...args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(args, { out: (s) => out.push(s), err: (s) => err.push(s) });
  return { code, out: out.join('\n'), err };
}

const unmapped = join(dir, 'unmapped.yaml');
writeFileSync(
  unmapped,
  `pipeline:
  identifier: unmapped
  stages:
    - stage:
        identifier: deploy
        type: Deployment
        spec:
          execution:
            steps:
              - step: { type: K8sRollingDeploy, identifier: rollout, name: Rollout, spec: { skipDryRun: false }, timeout: 10m }
              - step: { type: HarnessApproval, identifier: approve, name: Approve, spec: {}, timeout: 1d }
`,
);

describe('convoy import harness', () => {
  it('writes the Convoy file with -o, prints warnings and a summary on stderr, exits 0', async () => {
    const out = join(dir, 'broken.yaml');
    const result = await convoy(
      'import',
      'harness',
      join(FIXTURES, 'nextgen', 'broken-barrier.yaml'),
      '-o',
      out,
    );
    expect(result.code).toBe(0);
    expect(result.out).toBe('');
    expect(result.err).toHaveLength(3);
    expect(result.err[0]).toMatch(
      /^warning: .*broken-barrier\.yaml: pipeline\.stages\[0\]\.parallel\[4\]\.stage\.failureStrategies\[0\]\.onFailure\.action\.type: 'MarkAsSuccess'/,
    );
    expect(result.err[2]).toBe(
      `imported Harness NextGen pipeline as 'broken_release' into ${out}: 2 stages, 8 workflows, 1 barrier (2 warnings above)`,
    );
    const { plan } = compilePipeline(out, { pipelineId: 'p' });
    expect(plan.stages[0]!.workflows[0]!.steps[0]!.description).toBe(
      'Harness ShellScript step (broken-barrier.yaml: pipeline.stages[0].parallel[0].stage.spec.execution.steps[0].step)',
    );
    expect((await convoy('validate', out)).code).toBe(0);
  });

  it('prints the file on stdout without -o, FirstGen workflows given with their pipeline', async () => {
    const folder = join(FIXTURES, 'firstgen', 'looped');
    const result = await convoy(
      'import',
      'harness',
      ...['regions.yaml', 'deploy-region.yaml', 'switch-dns.yaml'].map((f) => join(folder, f)),
    );
    expect(result.code).toBe(0);
    expect(result.out).toMatch(
      /^# Imported from Harness FirstGen \(regions\.yaml, deploy-region\.yaml, switch-dns\.yaml\)/,
    );
    expect(result.out).toContain('forEach:\n          - eu\n          - us');
  });

  it('lists every unmapped step with its path, writes nothing and exits 2', async () => {
    const out = join(dir, 'never.yaml');
    const result = await convoy('import', 'harness', unmapped, '-o', out);
    expect(result.code).toBe(2);
    expect(existsSync(out)).toBe(false);
    expect(result.err).toEqual([
      `${unmapped}: pipeline.stages[0].stage.spec.execution.steps[0].step: step type 'K8sRollingDeploy' has no Convoy equivalent: map it to a shell command with --map K8sRollingDeploy=COMMAND (or in a --map-file)`,
      `${unmapped}: pipeline.stages[0].stage.spec.execution.steps[1].step: step type 'HarnessApproval' has no Convoy equivalent: map it to a shell command with --map HarnessApproval=COMMAND (or in a --map-file)`,
      'convoy: the Harness pipeline cannot be imported: 2 errors; nothing was written',
    ]);
  });

  it('maps step types with --map and --map-file, --map winning', async () => {
    const mapFile = join(dir, 'team-mappings.yaml');
    writeFileSync(mapFile, 'K8sRollingDeploy: ./team-k8s.sh\nHarnessApproval: "true"\n');
    const out = join(dir, 'mapped.yaml');
    const result = await convoy(
      'import',
      'harness',
      unmapped,
      '--map-file',
      mapFile,
      '--map',
      'K8sRollingDeploy=./k8s.sh --wait',
      '-o',
      out,
    );
    expect(result.code).toBe(0);
    const { plan } = compilePipeline(out, { pipelineId: 'p' });
    const [rollout, approve] = plan.stages[0]!.workflows[0]!.steps;
    expect(rollout).toMatchObject({ type: 'shell', command: './k8s.sh --wait', timeoutMs: 600_000 });
    expect(approve).toMatchObject({ type: 'shell', command: 'true', timeoutMs: 86_400_000 });
    expect(readFileSync(out, 'utf8')).toContain('HARNESS_STEP_SPEC: \'{"skipDryRun":false}\'');
  });

  it('reports unreadable input by file and exits 2', async () => {
    expect((await convoy('import', 'harness', join(dir, 'missing.yaml'))).err).toEqual([
      `${join(dir, 'missing.yaml')}: file not found`,
    ]);
    expect((await convoy('import', 'harness', unmapped, '--map', 'nonsense')).code).toBe(2);
    expect((await convoy('import', 'harness')).code).toBe(2);
  });
});

describe('convoy run --from harness', () => {
  it('stops at invalid Harness input with exit 2, before connecting to anything', async () => {
    const previous = process.env['TEMPORAL_ADDRESS'];
    process.env['TEMPORAL_ADDRESS'] = '127.0.0.1:1';
    try {
      const result = await convoy('run', '--from', 'harness', unmapped);
      expect(result.code).toBe(2);
      expect(result.err.at(-1)).toBe(
        'convoy: the Harness pipeline cannot be imported: 2 errors; nothing was written',
      );
    } finally {
      if (previous === undefined) delete process.env['TEMPORAL_ADDRESS'];
      else process.env['TEMPORAL_ADDRESS'] = previous;
    }
  });

  it('takes several files and mappings only with --from harness', async () => {
    const pipeline = join(FIXTURES, 'nextgen', 'parallel-barrier.yaml');
    expect((await convoy('run', pipeline, pipeline)).err).toEqual([
      'convoy: run takes one pipeline file (got 2); several go with --from harness',
    ]);
    expect((await convoy('run', pipeline, '--map', 'X=y')).err).toEqual([
      'convoy: --map and --map-file go with --from harness',
    ]);
    expect((await convoy('run', '--from', 'jenkins', pipeline)).code).toBe(2);
  });
});
