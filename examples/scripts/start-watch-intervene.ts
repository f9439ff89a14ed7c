/**
 * Start a pipeline written in code, watch what happens, and act on it: when a workflow waits for
 * an operator (its smoke test failed and its failure strategy is manual intervention), decide.
 *
 *   node dist/examples/scripts/start-watch-intervene.js [ignore|mark-success|abort|rollback]
 *
 * (`retry` is a decision too, but this smoke test fails every time: it would wait again.)
 * Run from the repository root with a server and a worker up (`./bin/convoy dev`).
 */
import {
  ConvoyClient,
  formatPipelineEvent,
  type InterventionAction,
  type PipelineDefinition,
} from 'convoy-pipelines';

/** Two services deploy, meet at a barrier, and the api runs a smoke test that fails. */
const release: PipelineDefinition = {
  name: 'smoke-tested-release',
  variables: { version: '3.1.0' },
  stages: [
    {
      name: 'deploy',
      workflows: [
        {
          name: 'api',
          steps: [
            { name: 'deploy', type: 'shell', command: 'echo deploying api ${{ vars.version }}' },
            { name: 'all-deployed', type: 'barrier', identifier: 'services-deployed' },
            {
              name: 'smoke-test',
              type: 'shell',
              command: 'echo "checkout returned 502" >&2; exit 1',
              failureStrategies: [{ on: ['step-failed'], action: 'manual-intervention', timeoutMs: 600_000 }],
            },
          ],
        },
        {
          name: 'web',
          steps: [
            { name: 'deploy', type: 'shell', command: 'sleep 0.2; echo deploying web ${{ vars.version }}' },
            { name: 'all-deployed', type: 'barrier', identifier: 'services-deployed' },
          ],
        },
      ],
    },
  ],
};

async function main(decision: InterventionAction): Promise<number> {
  const client = await ConvoyClient.connect();
  try {
    const pipeline = await client.start(release);
    console.log(`started ${pipeline.pipelineId}`);

    for await (const event of pipeline.watch({ intervalMs: 250 })) {
      console.log(formatPipelineEvent(event));
      if (event.type === 'workflow-status' && event.to === 'waiting-for-intervention') {
        // A real script would ask someone, or look at a dashboard; this one has made up its mind.
        console.log(`decided: ${await pipeline.intervene({ workflow: event.workflow, action: decision })}`);
      }
    }

    const result = await pipeline.result();
    return result.status === 'succeeded' ? 0 : 1;
  } finally {
    await client.close();
  }
}

main((process.argv[2] as InterventionAction | undefined) ?? 'ignore').then(
  (code) => (process.exitCode = code),
  (error: unknown) => {
    console.error(error);
    process.exitCode = 2;
  },
);
