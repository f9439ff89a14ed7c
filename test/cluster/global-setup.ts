/**
 * The cluster suite's setup, once per jest run: the Temporal server built from source (cached in
 * .convoy/temporal-server), a private PostgreSQL in a temporary folder, and both schemas. The test
 * file starts the server nodes itself (startLocalCluster with this PostgreSQL), because it kills
 * and restarts them.
 */
import { chmodSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readServerEnv, setupSchemas } from './support/cluster';
import { startPostgres, type Postgres } from './support/postgres';
import { provisionTemporalServer } from './support/temporal-server';

declare global {
  // Read back by global-teardown.ts, which runs in the same process.
  var __CONVOY_CLUSTER_POSTGRES__: Postgres | undefined;
}

export default async function globalSetup(): Promise<void> {
  const log = (line: string) => process.stdout.write(`\n${line}`);
  const started = Date.now();
  const binaries = await provisionTemporalServer({ log });
  const stateDir = mkdtempSync(join(tmpdir(), 'convoy-cluster-'));
  // As root, PostgreSQL runs as the postgres user, which must reach its folder inside this one.
  chmodSync(stateDir, 0o755);
  const postgres = await startPostgres({ stateDir: join(stateDir, 'postgres'), log });
  globalThis.__CONVOY_CLUSTER_POSTGRES__ = postgres;
  await setupSchemas(binaries, postgres, readServerEnv(), log);
  process.env.CONVOY_CLUSTER_STATE_DIR = stateDir;
  process.env.CONVOY_CLUSTER_POSTGRES = JSON.stringify({ port: postgres.port, password: postgres.password });
  log(`cluster suite setup: ${Math.round((Date.now() - started) / 1000)} s\n`);
}
