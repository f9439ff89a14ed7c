/** Child pipelines in what `convoy status` prints and the live view draws: listed by path. */
import { flattenChildPipelines } from '../../../src/client/child-pipelines';
import { formatPipelineResult } from '../../../src/cli/format';
import { renderLiveView } from '../../../src/cli/live-view';
import type { PipelineResult } from '../../../src/model/result';

const T0 = '2026-11-30T08:00:00.000Z';
const child: PipelineResult = {
  pipelineId: 'p/api/db',
  name: 'db',
  status: 'running',
  startedAt: T0,
  stages: [{ name: 'migrate', status: 'running', workflows: ['migrate'] }],
  workflows: [
    {
      name: 'migrate',
      stage: 'migrate',
      status: 'waiting-for-intervention',
      steps: [{ name: 'apply', type: 'shell', status: 'failed', attempts: 1, startedAt: T0 }],
      intervention: { step: 'apply', since: T0 },
    },
  ],
  barriers: [
    { stage: 'migrate', identifier: 'tidy', participants: ['migrate'], status: 'standing', arrivals: {} },
  ],
};
const doc: PipelineResult = {
  pipelineId: 'p',
  name: 'main',
  status: 'running',
  startedAt: T0,
  stages: [{ name: 'deploy', status: 'running', workflows: ['api', 'web'] }],
  workflows: [
    {
      name: 'api',
      stage: 'deploy',
      status: 'running',
      steps: [
        { name: 'db', type: 'pipeline', status: 'running', attempts: 1, startedAt: T0, pipeline: child },
      ],
    },
    { name: 'web', stage: 'deploy', status: 'waiting-at-barrier', steps: [] },
  ],
  barriers: [
    {
      stage: 'deploy',
      identifier: 'schema-ready',
      participants: ['web', 'api/migrate'],
      status: 'standing',
      arrivals: { web: T0 },
    },
  ],
};

test("a child pipeline's workflows, stages and barriers are listed by path; the document is unchanged", () => {
  const flat = flattenChildPipelines(doc);
  expect(flat.workflows.map((w) => [w.name, w.stage])).toEqual([
    ['api', 'deploy'],
    ['web', 'deploy'],
    ['api/db/migrate', 'api/db/migrate'],
  ]);
  expect(flat.barriers.map((b) => `${b.stage}/${b.identifier}`)).toEqual([
    'deploy/schema-ready',
    'api/db/migrate/tidy',
  ]);
  expect(flat.stages.map((s) => s.name)).toEqual(['deploy', 'api/db/migrate']);
  expect(doc.workflows).toHaveLength(2);
});

test('convoy status and the live view show the child pipeline, with the intervene command that reaches it', () => {
  const text = formatPipelineResult(doc);
  expect(text).toContain('db (pipeline) running → child pipeline p/api/db');
  expect(text).toContain('api/db/migrate');
  expect(text).toContain('api/migrate (no arrival)');
  const plain = {
    bold: (s: string) => s,
    dim: (s: string) => s,
    red: (s: string) => s,
    green: (s: string) => s,
    yellow: (s: string) => s,
  };
  const frame = renderLiveView(doc, {
    width: 200,
    nowMs: Date.parse(T0) + 1000,
    colours: plain as never,
  }).join('\n');
  expect(frame).toContain('api/db/migrate');
  expect(frame).toContain('convoy intervene p api/db/migrate');
});
