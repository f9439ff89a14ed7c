/**
 * Start a pipeline and wait for its result.
 *
 *   node dist/examples/scripts/start-and-wait.js [FILE]
 *
 * Run from the repository root after `npm ci` (which builds the scripts), with a Temporal server
 * and a Convoy worker up (`./bin/convoy dev` in another terminal). It connects the way the
 * `convoy` command does: TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_TASK_QUEUE.
 */
import { ConvoyClient, PipelineValidationError } from 'convoy-pipelines';

async function main(file = 'examples/microservice-release.yaml'): Promise<number> {
  const client = await ConvoyClient.connect();
  try {
    const pipeline = await client.start(file, { variables: { version: '2.8.0' } });
    console.log(`started ${pipeline.pipelineId}`);

    const result = await pipeline.result();
    for (const barrier of result.barriers) {
      console.log(`barrier ${barrier.stage}/${barrier.identifier}: ${barrier.status}`);
    }
    console.log(`pipeline ${result.pipelineId}: ${result.status}`);
    return result.status === 'succeeded' ? 0 : 1;
  } finally {
    await client.close();
  }
}

main(process.argv[2]).then(
  (code) => (process.exitCode = code),
  (error: unknown) => {
    // An invalid file never starts: every problem is listed, one `FILE: path: message` per line.
    console.error(error instanceof PipelineValidationError ? error.message : error);
    process.exitCode = 2;
  },
);
