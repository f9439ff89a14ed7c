/**
 * docker-compose.temporal.yml's two setup scripts, run for real without Docker: its schema script
 * (temporal-sql-tool, as in temporalio/admin-tools) creates a pair of databases on the suite's
 * PostgreSQL, a server node of the same release starts on them with the compose file's
 * settings, and its setup script (the `temporal` CLI) registers the namespace and Convoy's search
 * attributes on that node. Both scripts run twice: a second `docker compose up` must pass too.
 */
import { Connection } from '@temporalio/client';
import { spawn } from 'node:child_process';
import { mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { resolveTemporalCli } from '../../src/dev-server/temporal-cli';
import {
  CLUSTER_NAMESPACE,
  CONVOY_SEARCH_ATTRIBUTES,
  freeNodePorts,
  nodeEnvironment,
  readServerEnv,
  ServerNode,
} from './support/cluster';
import { composeScript } from './support/compose';
import { provisionTemporalServer, tail } from './support/temporal-server';
import { fromGlobalSetup } from './helpers';
import { eventually } from '../integration/harness';

const quiet = () => undefined;

/** Runs a compose service's script with `sh -ec`, as its `entrypoint` does; resolves with its output. */
function runScript(script: string, env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/sh', ['-ec', script], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 180_000);
    child.once('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(output);
      else reject(new Error(`the script exited with ${code}:\n${tail(output)}`));
    });
  });
}

let node: ServerNode | undefined;
afterAll(() => node?.stop());

test("the compose file's schema and setup scripts set up a working server of the same release", async () => {
  const { stateDir, postgres } = fromGlobalSetup();
  const binaries = await provisionTemporalServer({ log: quiet });
  // The admin-tools image's names for what we built: temporal-sql-tool and the `temporal` CLI,
  // with the schema files where the image keeps them (/etc/temporal/schema).
  const tools = mkdtempSync(join(tmpdir(), 'convoy-admin-tools-'));
  symlinkSync(binaries.sqlTool, join(tools, 'temporal-sql-tool'));
  symlinkSync((await resolveTemporalCli({ log: quiet })).path, join(tools, 'temporal'));
  const schemaRoot = dirname(dirname(dirname(dirname(binaries.schemaDir)))); // .../schema
  const databases = { DBNAME: 'compose_temporal', VISIBILITY_DBNAME: 'compose_temporal_visibility' };
  const base = { PATH: `${tools}:${process.env.PATH}`, HOME: process.env.HOME };

  const schemaScript = composeScript('temporal-schema').replaceAll('/etc/temporal/schema', schemaRoot);
  const schemaEnv = {
    ...base,
    ...readServerEnv(),
    ...databases,
    SQL_PLUGIN: 'postgres12',
    SQL_HOST: postgres.host,
    SQL_PORT: String(postgres.port),
    SQL_USER: postgres.user,
    SQL_PASSWORD: postgres.password,
  };
  await runScript(schemaScript, schemaEnv);
  await runScript(schemaScript, schemaEnv); // the databases exist now: schema updates only
  for (const database of Object.values(databases)) {
    expect(await postgres.query('select count(*) > 0 from schema_update_history', database)).toBe('t');
  }

  const ports = await freeNodePorts();
  node = new ServerNode(
    1,
    ports,
    binaries,
    nodeEnvironment({ ...readServerEnv(), ...databases }, postgres, ports),
    join(stateDir, 'compose-node.log'),
  );
  node.start();
  const setup = composeScript('temporal-setup');
  const setupEnv = { ...base, TEMPORAL_ADDRESS: node.address };
  await runScript(setup, setupEnv);
  await runScript(setup, setupEnv); // everything is registered now: nothing to do

  const connection = await Connection.connect({ address: node.address });
  try {
    await connection.workflowService.describeNamespace({ namespace: CLUSTER_NAMESPACE });
    const { customAttributes } = await eventually(
      () => connection.operatorService.listSearchAttributes({ namespace: CLUSTER_NAMESPACE }),
      ({ customAttributes: found }) => Object.keys(CONVOY_SEARCH_ATTRIBUTES).every((name) => found?.[name]),
    );
    expect(
      Object.fromEntries(
        Object.keys(CONVOY_SEARCH_ATTRIBUTES).map((name) => [name, customAttributes![name]]),
      ),
    ).toEqual({ ConvoyPipeline: 2, ConvoyStatus: 2, ConvoyWaitingBarriers: 7 }); // Keyword, Keyword, KeywordList
  } finally {
    await connection.close();
  }
}, 600_000);
