/** Compilation to the plan: shape, defaults, barrier participants, errors, and the examples. */
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  compilePipeline,
  compilePipelineText,
  validatePipelineFile,
} from '../../../src/pipeline-file/compile';
import { PipelineValidationError, formatIssue } from '../../../src/pipeline-file/issues';
import {
  type BarrierStepPlan,
  type HttpStepPlan,
  leafSteps,
  pipelinePlanSchema,
} from '../../../src/model/plan';
import { barrier, basePipeline, cleanupTempDirs, shell, validateFile, writePipeline } from './helpers';

afterAll(cleanupTempDirs);

const EXAMPLES_DIR = join(__dirname, '..', '..', '..', 'examples');

describe('compilePipeline', () => {
  it('produces a plan that passes the plan schema, with defaults filled in', () => {
    const pipeline = basePipeline();
    pipeline.stages[0].workflows[1].steps.push({
      name: 'probe',
      type: 'http',
      url: 'http://localhost:8080/health',
      method: 'post',
    });
    const { plan, warnings } = compilePipeline(writePipeline(pipeline), { pipelineId: 'checkout-1' });
    expect(warnings).toEqual([]);
    expect(pipelinePlanSchema.parse(plan)).toEqual(plan);
    expect(plan.pipelineId).toBe('checkout-1');
    expect(plan.name).toBe('checkout-release');
    expect(plan.failureStrategies).toEqual([]);
    const [payments, orders] = plan.stages[0]!.workflows;
    expect((payments!.steps[1] as BarrierStepPlan).timeoutMs).toBe(600000);
    const probe = orders!.steps[2] as HttpStepPlan;
    expect(probe).toMatchObject({ method: 'POST', expectStatus: [200], headers: {}, skip: false });
    expect(payments!.rollbackSteps.map((s) => s.name)).toEqual(['undo']);
    expect(orders!.rollbackSteps).toEqual([]);
  });

  it('lists each barrier of a stage with every participant, forEach expansions and skipped steps included', () => {
    const pipeline = {
      name: 'participants',
      variables: { mode: 'fast' },
      stages: [
        {
          name: 'deploy',
          workflows: [
            { name: 'region', forEach: ['eu', 'us'], steps: [barrier('deployed'), barrier('verified')] },
            {
              name: 'dns',
              steps: [barrier('deployed', { when: { var: 'mode', equals: 'slow' } }), shell('flip')],
            },
          ],
        },
      ],
    };
    const { plan } = compilePipeline(writePipeline(pipeline), { pipelineId: 'p' });
    expect(plan.stages[0]!.barriers).toEqual([
      { identifier: 'deployed', participants: ['region[eu]', 'region[us]', 'dns'] },
      { identifier: 'verified', participants: ['region[eu]', 'region[us]'] },
    ]);
    expect(plan.stages[0]!.workflows[2]!.steps[0]!.skip).toBe(true);
  });

  it('throws a PipelineValidationError with every issue and printable lines', () => {
    const pipeline = basePipeline();
    pipeline.stages[0].workflows[0].steps[0].timeoutMs = 0;
    pipeline.stages[0].workflows[1].steps[1].identifier = '<+x>';
    const file = writePipeline(pipeline);
    let caught: unknown;
    try {
      compilePipeline(file, { pipelineId: 'p' });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(PipelineValidationError);
    const error = caught as PipelineValidationError;
    expect(error.name).toBe('PipelineValidationError');
    expect(error.issues.map((i) => i.path)).toEqual([
      'stages[0].workflows[0].steps[0].timeoutMs',
      'stages[0].workflows[1].steps[1].identifier',
    ]);
    expect(error.lines).toEqual(error.issues.map((issue) => formatIssue(file, issue)));
    expect(error.message).toBe(error.lines.join('\n'));
  });

  it('throws for a missing file too', () => {
    expect(() => compilePipeline('/nonexistent/pipeline.yaml', { pipelineId: 'p' })).toThrow(
      '/nonexistent/pipeline.yaml: file not found',
    );
  });

  it('compiles text in memory', () => {
    const { plan } = compilePipelineText(JSON.stringify(basePipeline()), 'inline.json', { pipelineId: 'p' });
    expect(plan.source).toBe('inline.json');
  });

  it('carries an optional step description into the plan, and leaves it out when absent', () => {
    const pipeline = basePipeline();
    pipeline.stages[0].workflows[0].steps[0].description = 'Harness step deploy at pipeline.stages[0].stage';
    pipeline.stages[0].workflows[0].rollbackSteps[0].description = 'undoes the deploy';
    const { plan } = compilePipeline(writePipeline(pipeline), { pipelineId: 'p' });
    const payments = plan.stages[0]!.workflows[0]!;
    expect(payments.steps[0]!.description).toBe('Harness step deploy at pipeline.stages[0].stage');
    expect(payments.rollbackSteps[0]!.description).toBe('undoes the deploy');
    expect(payments.steps[1]).not.toHaveProperty('description');
  });

  it('rejects a description that is not one line of at most 1024 characters', () => {
    const pipeline = basePipeline();
    pipeline.stages[0].workflows[0].steps[0].description = 'two\nlines';
    pipeline.stages[0].workflows[0].steps[1].description = 'x'.repeat(1025);
    pipeline.stages[0].workflows[0].steps[2].description = 42;
    const result = validateFile(writePipeline(pipeline));
    expect(result.errors).toEqual([
      'pipeline.yaml: stages[0].workflows[0].steps[0].description: must be one line without control characters',
      'pipeline.yaml: stages[0].workflows[0].steps[1].description: must be at most 1024 characters',
      'pipeline.yaml: stages[0].workflows[0].steps[2].description: expected a string, got 42',
    ]);
  });

  it('returns warnings alongside the plan', () => {
    const pipeline = basePipeline();
    pipeline.stages[0].workflows[1].steps[1].identifier = 'alone';
    const { warnings } = compilePipeline(writePipeline(pipeline), { pipelineId: 'p' });
    expect(warnings.map((w) => w.path)).toEqual([
      'stages[0].workflows[0].steps[1].identifier',
      'stages[0].workflows[1].steps[1].identifier',
    ]);
  });
});

describe('validatePipelineFile', () => {
  it('never throws and reports errors, warnings and the plan', () => {
    expect(validatePipelineFile('/nonexistent.yaml').errors).toEqual([
      { path: '', message: 'file not found' },
    ]);
    const report = validatePipelineFile(writePipeline(basePipeline()));
    expect(report.errors).toEqual([]);
    expect(report.plan?.pipelineId).toBe('validation-only');
  });
});

describe('examples', () => {
  const examples = readdirSync(EXAMPLES_DIR).filter((f) => /\.(ya?ml|json)$/.test(f));

  it('include the three documented pipelines', () => {
    expect(examples).toEqual(
      expect.arrayContaining([
        'microservice-release.yaml',
        'db-migration-rollout.yaml',
        'multi-region-rollout.yaml',
        'canary-with-migration.yaml',
      ]),
    );
  });

  it.each(examples)('%s validates with no errors and no warnings', (example) => {
    const result = validateFile(join(EXAMPLES_DIR, example), undefined, example);
    expect(result.err).toEqual([]);
    expect(result.code).toBe(0);
    expect(result.out).toEqual([expect.stringMatching(new RegExp(`^${example.replace('.', '\\.')}: OK`))]);
  });

  it.each(examples)('%s runs on a bare machine: shell steps only, short waits, no http', (example) => {
    const { plan } = compilePipeline(join(EXAMPLES_DIR, example), { pipelineId: 'example' });
    for (const stage of plan.stages) {
      // No barrier passes at once: several participants, or a release train's other pipelines.
      expect(stage.barriers.every((b) => b.participants.length > 1 || b.train !== undefined)).toBe(true);
      for (const workflow of stage.workflows) {
        for (const step of [...leafSteps(workflow.steps), ...workflow.rollbackSteps]) {
          expect(step.type).not.toBe('http');
          if (step.type === 'wait') expect(step.durationMs).toBeLessThanOrEqual(1000);
          if (step.type === 'shell') {
            expect(step.command).not.toMatch(/\.\/|curl|wget|kubectl/);
            // The command runs as the shell activity would run it, and succeeds.
            if (!step.skip)
              execFileSync('/bin/sh', ['-c', step.command], {
                env: { PATH: process.env['PATH'], ...step.env },
                stdio: 'pipe',
              });
          }
        }
      }
    }
  });
});
