/** A pipeline caught mid-run, for the CLI's views: one barrier standing, one crossed, an operator awaited. */
import type { PipelineResult } from '../../../src/model/result';

export const T0 = Date.UTC(2026, 0, 1, 12, 0, 0, 0);
export const at = (ms: number) => new Date(T0 + ms).toISOString();

export function midRun(): PipelineResult {
  return {
    pipelineId: 'release-42',
    name: 'release',
    status: 'running',
    startedAt: at(0),
    stages: [
      { name: 'deploy', status: 'running', workflows: ['payments', 'search', 'orders[eu]'] },
      { name: 'verify', status: 'not-started', workflows: ['smoke'] },
    ],
    workflows: [
      {
        name: 'payments',
        stage: 'deploy',
        status: 'waiting-at-barrier',
        steps: [
          {
            name: 'deploy',
            type: 'shell',
            status: 'succeeded',
            attempts: 1,
            startedAt: at(0),
            endedAt: at(2_000),
          },
          { name: 'all-deployed', type: 'barrier', status: 'waiting', attempts: 1, startedAt: at(2_000) },
        ],
      },
      {
        name: 'search',
        stage: 'deploy',
        status: 'running',
        steps: [{ name: 'deploy', type: 'shell', status: 'running', attempts: 2, startedAt: at(100) }],
      },
      {
        name: 'orders[eu]',
        stage: 'deploy',
        status: 'waiting-for-intervention',
        steps: [
          {
            name: 'migrate',
            type: 'shell',
            status: 'failed',
            attempts: 1,
            startedAt: at(50),
            endedAt: at(3_000),
            error: { type: 'step-failed', message: 'exit code 1\nmore' },
          },
        ],
        intervention: { step: 'migrate', since: at(3_000), deadline: at(303_000) },
      },
      { name: 'smoke', stage: 'verify', status: 'not-started', steps: [] },
    ],
    barriers: [
      {
        stage: 'deploy',
        identifier: 'all-deployed',
        participants: ['payments', 'search', 'orders[eu]'],
        status: 'standing',
        arrivals: { payments: at(2_000) },
        deadline: at(602_000),
      },
      {
        stage: 'deploy',
        identifier: 'db-ready',
        participants: ['payments', 'orders[eu]'],
        status: 'crossed',
        arrivals: { payments: at(1_000), 'orders[eu]': at(1_500) },
        resolvedAt: at(1_500),
      },
    ],
  };
}
