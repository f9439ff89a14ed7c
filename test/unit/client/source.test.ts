/** Pipelines as the client takes them: files, definition objects and loaded pipelines. */
import { join } from 'node:path';
import {
  DEFINITION_SOURCE,
  compileForStart,
  loadPipeline,
  validatePipeline,
  type PipelineDefinition,
} from '../../../src/client/source';
import { PipelineValidationError } from '../../../src/pipeline-file/issues';
import { basePipeline, cleanupTempDirs, makeTempDir, writePipeline } from '../pipeline-file/helpers';

afterAll(cleanupTempDirs);

const definition: PipelineDefinition = {
  name: 'from-code',
  variables: { version: '1.0.0' },
  stages: [
    {
      name: 'deploy',
      workflows: [
        {
          name: 'api',
          steps: [
            { name: 'deploy', type: 'shell', command: 'echo ${{ vars.version }} ${{ pipeline.id }}' },
            { name: 'sync', type: 'barrier', identifier: 'deployed' },
          ],
        },
      ],
    },
  ],
};

describe('validatePipeline', () => {
  it('accepts a definition object and returns it loaded, defaults filled in, with its warnings', () => {
    const report = validatePipeline(definition);
    expect(report).toMatchObject({ valid: true, source: DEFINITION_SOURCE, errors: [] });
    // A barrier with one participant passes at once: SPEC section 2 rule 7 warns.
    expect(report.warnings).toEqual([expect.objectContaining({ message: expect.stringMatching(/single/) })]);
    expect(report.pipeline).toMatchObject({ name: 'from-code', source: DEFINITION_SOURCE });
    expect(report.pipeline!.definition.stages[0]!.workflows[0]!.steps[1]).toMatchObject({
      timeoutMs: 600000,
    });
    expect(report.pipeline!.warnings).toEqual(report.warnings);
  });

  it('reports every error of a bad object by field path, never throwing', () => {
    const report = validatePipeline({ name: '', stages: [{ name: 's', workflows: [], extra: 1 }] } as never);
    expect(report.valid).toBe(false);
    expect(report.pipeline).toBeUndefined();
    expect(new Set(report.errors.map((e) => e.path))).toEqual(
      new Set(['name', 'stages[0].extra', 'stages[0].workflows']),
    );
    for (const bad of [null, 42, 'x'.repeat(3), [], {}] as never[]) {
      expect(validatePipeline(bad).valid).toBe(false);
    }
  });

  it('reads files, and reports a missing one as an issue of the whole file', () => {
    const file = writePipeline(basePipeline());
    expect(validatePipeline(file)).toMatchObject({
      valid: true,
      source: file,
      pipeline: { name: 'checkout-release' },
    });
    const missing = join(makeTempDir(), 'missing.yaml');
    expect(validatePipeline(missing)).toMatchObject({
      valid: false,
      source: missing,
      errors: [{ path: '', message: 'file not found' }],
    });
  });

  it('applies variable overrides and the pipeline id the run will have', () => {
    const gated = {
      ...definition,
      stages: [
        {
          name: 'deploy',
          workflows: [
            {
              name: 'api',
              steps: [
                { name: 'gate', type: 'shell', command: 'true', when: { var: 'region', equals: 'eu' } },
              ],
            },
          ],
        },
      ],
    } satisfies PipelineDefinition;
    expect(validatePipeline(gated).errors).toEqual([
      expect.objectContaining({ path: 'stages[0].workflows[0].steps[0].when.var' }),
    ]);
    expect(validatePipeline(gated, { variables: { region: 'eu' } }).valid).toBe(true);
    expect(validatePipeline(definition, { pipelineId: '' }).valid).toBe(false);
  });
});

describe('loadPipeline', () => {
  it('returns the loaded pipeline, or throws a PipelineValidationError listing every error', () => {
    expect(loadPipeline(definition).name).toBe('from-code');
    let thrown: unknown;
    try {
      loadPipeline({ ...definition, stages: [] });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(PipelineValidationError);
    expect(thrown).toMatchObject({
      name: 'PipelineValidationError',
      file: DEFINITION_SOURCE,
      lines: [`${DEFINITION_SOURCE}: stages: expected at least one stage`],
    });
  });
});

describe('compileForStart', () => {
  it('compiles with the given id and variables', () => {
    const { plan } = compileForStart(definition, { id: 'release-42', variables: { version: '2.0.0' } });
    expect(plan.pipelineId).toBe('release-42');
    const deploy = plan.stages[0]!.workflows[0]!.steps[0]!;
    expect(deploy).toMatchObject({ command: "echo '2.0.0' 'release-42'" });
  });

  it('generates a readable id from the name when none is given', () => {
    const { plan } = compileForStart(loadPipeline(definition), {});
    expect(plan.pipelineId).toMatch(/^from-code-\d{8}-\d{6}Z-[0-9a-f]{6}$/);
  });

  it('keeps the file path as the source of a loaded file', () => {
    const file = writePipeline(basePipeline());
    const { plan } = compileForStart(loadPipeline(file), { id: 'x' });
    expect(plan.source).toBe(file);
  });

  it('throws a PipelineValidationError for an invalid pipeline or id', () => {
    expect(() => compileForStart({ ...definition, name: 'bad name' }, { id: 'x' })).toThrow(
      PipelineValidationError,
    );
    expect(() => compileForStart(definition, { id: '' })).toThrow(/pipeline id must not be empty/);
  });
});
