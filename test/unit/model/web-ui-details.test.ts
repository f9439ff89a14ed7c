import { Book } from '../../../src/model/barrier';
import {
  renderBarrierWaitSummary,
  renderDeadlineSummary,
  renderInterventionWaitSummary,
  renderPipelineDetails,
  renderParallelDetails,
  renderStepDetails,
} from '../../../src/model/web-ui-details';

const plan = {
  stages: [
    {
      name: 'deploy',
      barriers: [{ identifier: 'services-deployed', participants: ['a', 'b', 'c', 'd', 'e', 'f', 'g'] }],
    },
    { name: 'verify', barriers: [{ identifier: 'checked', participants: ['x', 'y'] }] },
  ],
};

test('shows started stages and who a standing barrier waits for', () => {
  let book = Book.createBookFromPlan(plan);
  book = Book.arrive(book, { stage: 'deploy', identifier: 'services-deployed' }, 'a', 1000, 60000).state;
  book = Book.withdraw(book, { stage: 'deploy', identifier: 'services-deployed' }, 'b', 1000).state;
  const text = renderPipelineDetails(
    'running',
    [
      { name: 'deploy', status: 'running' },
      { name: 'verify', status: 'not-started' },
    ],
    Book.listBarriers(book),
  );
  expect(text).toContain('**Pipeline running**');
  expect(text).toContain('- stage `verify`: not-started');
  expect(text).toContain(
    '- `services-deployed` (stage deploy): **standing**, 2/7 arrived — waiting for c, d, e, f, g',
  );
  expect(text).not.toContain('checked'); // the verify stage has not started
});

test('long lists are cut, and a resolved barrier shows its reason', () => {
  let book = Book.createBookFromPlan(plan);
  const key = { stage: 'deploy', identifier: 'services-deployed' };
  const many = renderPipelineDetails(
    'running',
    [{ name: 'deploy', status: 'running' }],
    Book.listBarriers(book),
  );
  expect(many).toContain('0/7 arrived — waiting for a, b, c, d, e and 2 more');
  book = Book.arrive(book, key, 'a', 1000, 60000).state;
  book = Book.abandon(book, key, 'c', 'c: step deploy failed', 2000).state;
  const broken = renderPipelineDetails(
    'failed',
    [{ name: 'deploy', status: 'failed' }],
    Book.listBarriers(book),
  );
  expect(broken).toMatch(
    /`services-deployed` \(stage deploy\): \*\*broken\*\*, 1\/7 arrived — .*c: step deploy failed/,
  );
});

test('step details name the step, its position and, for a barrier, which one and its timeout', () => {
  expect(renderStepDetails({ name: 'deploy', type: 'shell' }, 0, 3)).toBe('**step 1/3: `deploy`** (shell)');
  expect(
    renderStepDetails(
      { name: 'all-in', type: 'barrier', identifier: 'services-deployed', timeoutMs: 600000 },
      1,
      3,
    ),
  ).toBe('**step 2/3: `all-in`** — barrier `services-deployed` (timeout 600000 ms)');
  // A child pipeline step names the child pipeline's workflow, where its own details are.
  expect(
    renderStepDetails(
      { name: 'db', type: 'pipeline', pipeline: { name: 'db-schema', pipelineId: 'p/api/db' } },
      2,
      3,
    ),
  ).toBe('**step 3/3: `db`** — child pipeline `db-schema` (workflow `p/api/db`)');
});

test('timer summaries name the barrier(s) and the deadline', () => {
  const at = Date.parse('2026-11-30T12:00:00.000Z');
  expect(renderDeadlineSummary([{ stage: 'deploy', identifier: 'gate' }], at)).toBe(
    'barrier gate (stage deploy) deadline 2026-11-30T12:00:00.000Z',
  );
  expect(
    renderDeadlineSummary(
      [
        { stage: 'deploy', identifier: 'a' },
        { stage: 'verify', identifier: 'b' },
      ],
      at,
    ),
  ).toBe('barriers a (stage deploy), b (stage verify) deadline 2026-11-30T12:00:00.000Z');
  expect(renderBarrierWaitSummary('gate', at)).toBe('barrier gate deadline 2026-11-30T12:00:00.000Z');
  expect(renderInterventionWaitSummary('deploy', at)).toBe(
    'manual intervention on step deploy deadline 2026-11-30T12:00:00.000Z',
  );
});

test("a child's details name a parallel step's branches", () => {
  expect(
    renderStepDetails(
      { name: 'rollout', type: 'parallel', branches: [{ name: 'canary' }, { name: 'migrate' }] },
      1,
      3,
    ),
  ).toBe('**step 2/3: `rollout`** — parallel branches `canary`, `migrate`');
});

test("a child's details while it runs a parallel step: each branch, its status and its step", () => {
  expect(
    renderParallelDetails({ name: 'rollout' }, 0, 2, [
      {
        name: 'canary',
        participant: 'app/canary',
        status: 'waiting-at-barrier',
        steps: [{ name: 'canary-cut', type: 'barrier', status: 'waiting', attempts: 1 }],
      },
      { name: 'migrate', participant: 'app/migrate', status: 'running', steps: [] },
    ]),
  ).toBe(
    '**step 1/2: `rollout`** — parallel\n\n- `app/canary`: waiting-at-barrier at `canary-cut` (barrier)\n- `app/migrate`: running',
  );
});
