/**
 * Release a standing barrier from a script: the participants waiting there, and any that arrive
 * later, pass at once (the barrier's status becomes `forced`, with your reason on it).
 *
 *   node dist/examples/scripts/release-barrier.js PIPELINE_ID STAGE IDENTIFIER [REASON]
 *
 * The same as `convoy barrier release`, for a script that decides for itself (a canary that is
 * known to be slow, a maintenance window that opened). Run from the repository root.
 */
import { ConvoyClient, OperatorCommandRejectedError, PipelineNotFoundError } from 'convoy-pipelines';

async function main(args: string[]): Promise<number> {
  const [pipelineId, stage, identifier, reason = 'released by release-barrier.ts'] = args;
  if (!pipelineId || !stage || !identifier) {
    console.error('usage: release-barrier PIPELINE_ID STAGE IDENTIFIER [REASON]');
    return 2;
  }
  const client = await ConvoyClient.connect();
  try {
    const pipeline = client.getHandle(pipelineId);
    console.log(await pipeline.releaseBarrier({ stage, identifier, reason }));

    const { barriers } = await pipeline.status();
    const barrier = barriers.find((b) => b.stage === stage && b.identifier === identifier);
    const arrived = Object.keys(barrier?.arrivals ?? {});
    console.log(`already there: ${arrived.join(', ') || 'nobody'}; the others will pass when they arrive`);
    return 0;
  } catch (error) {
    // The pipeline's own words: no such barrier, already crossed or broken, …
    if (error instanceof OperatorCommandRejectedError) console.error(`refused: ${error.reason}`);
    else if (error instanceof PipelineNotFoundError) console.error(error.message);
    else throw error;
    return 1;
  } finally {
    await client.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => (process.exitCode = code),
  (error: unknown) => {
    console.error(error);
    process.exitCode = 2;
  },
);
