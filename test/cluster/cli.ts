/**
 * `npm run cluster`: the local Temporal cluster for development, outside jest. PostgreSQL and two
 * server nodes built from source, state kept in .convoy/cluster (git-ignored) across runs, until
 * Ctrl-C. `npm run cluster -- provision` only builds the server and checks for PostgreSQL (CI runs
 * it before the tests so that the build's time is not a test's).
 */
import { join } from 'node:path';
import { defaultToolsDir } from '../../src/dev-server/temporal-cli';
import { startLocalCluster } from './support/cluster';
import { findPostgresBinDir } from './support/postgres';
import { provisionTemporalServer } from './support/temporal-server';

const log = (line: string) => process.stdout.write(`${line}\n`);

async function main(command: string | undefined): Promise<void> {
  if (command === 'provision') {
    const binaries = await provisionTemporalServer({ log });
    log(`Temporal server ${binaries.version} ready: ${binaries.server}`);
    log(`PostgreSQL server binaries: ${findPostgresBinDir()}`);
    return;
  }
  if (command !== undefined)
    throw new Error(
      `unknown command "${command}": use \`npm run cluster\` or \`npm run cluster -- provision\``,
    );
  const cluster = await startLocalCluster({ stateDir: join(defaultToolsDir(), 'cluster'), log });
  log('');
  log(
    `Frontends: ${cluster.addresses.join(' and ')} (namespace default; PostgreSQL on 127.0.0.1:${cluster.postgres.port})`,
  );
  log(`Try: TEMPORAL_ADDRESS=${cluster.addresses[0]} ./bin/convoy worker`);
  log(`     TEMPORAL_ADDRESS=${cluster.addresses[1]} ./bin/convoy run examples/microservice-release.yaml`);
  log('Ctrl-C stops the nodes and PostgreSQL; the state stays in .convoy/cluster for the next run.');
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  log('stopping the cluster...');
  await cluster.stop();
}

main(process.argv[2]).catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
