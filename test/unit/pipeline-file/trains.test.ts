/**
 * Validation of release trains (issue 14): `convoy validate` exits 2 with a `FILE: path: message`
 * line for a train without `expect`, an empty or repeated `expect`, a pipeline missing from its
 * own `expect`, disagreeing trains on one barrier, and a train joined in two stages.
 */
import { basePipeline, cleanupTempDirs, validate, type PipelineDraft } from './helpers';

afterAll(cleanupTempDirs);

/** The base pipeline (`checkout-release`) with `train` on payments' barrier step. */
function withTrain(train: unknown): PipelineDraft {
  const pipeline = basePipeline();
  pipeline.stages[0].workflows[0].steps[1].train = train;
  return pipeline;
}
const TRAIN_PATH = 'stages[0].workflows[0].steps[1].train';

function errorLine(result: { errors: string[] }, path: string): string {
  const line = result.errors.find((l) => l.startsWith(`pipeline.yaml: ${path}: `));
  if (!line) throw new Error(`no error at ${path} in:\n${result.errors.join('\n')}`);
  return line;
}

test('a valid train passes, and its single-participant barrier is no warning', () => {
  const pipeline = withTrain({ name: 'spring', expect: ['checkout-release', 'payments-release'] });
  pipeline.stages[0].workflows[1].steps = pipeline.stages[0].workflows[1].steps.filter(
    (s: { type: string }) => s.type !== 'barrier',
  );
  const result = validate(pipeline);
  expect(result.err).toEqual([]);
  expect(result.code).toBe(0);
});

test.each([
  [{ name: 'spring' }, `${TRAIN_PATH}.expect`, 'missing required field'],
  [{ name: 'spring', expect: [] }, `${TRAIN_PATH}.expect`, 'expected at least one pipeline name'],
  [{ expect: ['checkout-release'] }, `${TRAIN_PATH}.name`, 'missing required field'],
  [{ name: 'spring', expect: ['checkout-release'], wait: 1 }, `${TRAIN_PATH}.wait`, "unknown field 'wait'"],
  [
    { name: 'bad name', expect: ['checkout-release'] },
    `${TRAIN_PATH}.name`,
    'must start with a letter or digit',
  ],
  [
    { name: 'spring', expect: ['checkout-release', 'payments', 'checkout-release'] },
    `${TRAIN_PATH}.expect[2]`,
    "duplicate pipeline 'checkout-release' in expect",
  ],
  [
    { name: 'spring', expect: ['payments-release'] },
    `${TRAIN_PATH}.expect`,
    "this pipeline ('checkout-release') is not in expect",
  ],
])('rejects the train %j at %s', (train, path, message) => {
  const result = validate(withTrain(train));
  expect(result.code).toBe(2);
  expect(errorLine(result, path)).toContain(message);
});

test('the steps of one barrier must name the same train', () => {
  const pipeline = withTrain({ name: 'spring', expect: ['checkout-release'] });
  pipeline.stages[0].workflows[1].steps[1].train = { name: 'autumn', expect: ['checkout-release'] };
  const result = validate(pipeline);
  expect(result.code).toBe(2);
  expect(errorLine(result, 'stages[0].workflows[1].steps[1].train')).toContain(
    "joins train 'spring' (expect checkout-release) at stages[0].workflows[0].steps[1].train",
  );
});

test('a pipeline joins one train barrier in one stage only', () => {
  const pipeline = withTrain({ name: 'spring', expect: ['checkout-release'] });
  const second = JSON.parse(JSON.stringify(pipeline.stages[0]));
  second.name = 'again';
  for (const wf of second.workflows) wf.name = `${wf.name}-again`;
  pipeline.stages.push(second);
  const result = validate(pipeline);
  expect(result.code).toBe(2);
  expect(errorLine(result, 'stages[1].workflows[0].steps[1].train')).toContain(
    "train 'spring' is already joined at barrier 'services-deployed' in stage 'deploy'",
  );
});
