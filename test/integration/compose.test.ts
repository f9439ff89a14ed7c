/**
 * docker-compose.temporal.yml is for users with Docker, which this machine lacks (no engine). We
 * check what can be checked without one: Debian's `docker-compose config` accepts the file, the
 * start order and health checks hold, and it runs the same Temporal service as the local cluster
 * of the cluster tests (test/cluster): the same server release, the same settings file and
 * dynamic config file mounted, the same variables, schemas and search attributes. The cluster
 * suite runs the file's own setup scripts against the cluster's server (test/cluster/compose-scripts.test.ts).
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { dynamicConfigFile } from '../../src/dev-server/dynamic-config';
import { HealthPaths, WorkerVariables } from '../../src/worker/settings';
import {
  CONVOY_SEARCH_ATTRIBUTES,
  nodeEnvironment,
  readServerEnv,
  serverEnvFile,
} from '../cluster/support/cluster';
import { composeSearchAttributes } from '../cluster/support/compose';
import { TEMPORAL_SERVER_VERSION } from '../cluster/support/temporal-server';

const repo = resolve(__dirname, '..', '..');
const composeFile = join(repo, 'docker-compose.temporal.yml');

interface Service {
  image?: string;
  build?: { context: string; dockerfile: string };
  command?: string[];
  entrypoint?: string[];
  environment?: Record<string, string>;
  volumes?: (string | { type: string; source: string; target: string; read_only?: boolean })[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
  ports?: (string | { published: number | string; target: number })[];
}

let services: Record<string, Service>;
beforeAll(async () => {
  // The resolved configuration, as Docker would run it: env_file merged in, paths made absolute.
  const { stdout } = await promisify(execFile)('docker-compose', ['-f', composeFile, 'config'], {
    cwd: repo,
  });
  services = (parse(stdout) as { services: Record<string, Service> }).services;
});

test('docker-compose accepts the file: PostgreSQL, schema setup, server, namespace setup, Web UI, worker', () => {
  expect(Object.keys(services).sort()).toEqual(
    ['convoy-worker', 'postgresql', 'temporal', 'temporal-schema', 'temporal-setup', 'temporal-ui'].sort(),
  );
});

test('each service starts only once what it needs is healthy or done', () => {
  const order = Object.fromEntries(
    Object.entries(services).map(([name, s]) => [
      name,
      Object.fromEntries(Object.entries(s.depends_on ?? {}).map(([dep, { condition }]) => [dep, condition])),
    ]),
  );
  expect(order).toEqual({
    postgresql: {},
    'temporal-schema': { postgresql: 'service_healthy' },
    temporal: { 'temporal-schema': 'service_completed_successfully' },
    'temporal-setup': { temporal: 'service_healthy' },
    'temporal-ui': { temporal: 'service_healthy' },
    'convoy-worker': { 'temporal-setup': 'service_completed_successfully' },
  });
  expect(services.postgresql!.healthcheck?.test.join(' ')).toMatch(/pg_isready/);
  expect(services.temporal!.healthcheck?.test).toEqual(['CMD', 'nc', '-z', '127.0.0.1', '7233']);
});

test('the server, schema tool and Web UI images are pinned; the server is the release the cluster builds', () => {
  expect(services.temporal!.image).toBe(`temporalio/server:${TEMPORAL_SERVER_VERSION}`);
  expect(services['temporal-schema']!.image).toBe(`temporalio/admin-tools:${TEMPORAL_SERVER_VERSION}`);
  expect(services['temporal-setup']!.image).toBe(`temporalio/admin-tools:${TEMPORAL_SERVER_VERSION}`);
  expect(services['temporal-ui']!.image).toMatch(/^temporalio\/ui:\d+\.\d+\.\d+$/);
  expect(services.postgresql!.image).toMatch(/^postgres:15$/);
});

test('the server mounts the dynamic config file the cluster tests use, and reads it', () => {
  const temporal = services.temporal!;
  const target = temporal.environment!.DYNAMIC_CONFIG_FILE_PATH!;
  const mounts = (temporal.volumes ?? []).map((v) =>
    typeof v === 'string' ? { source: v.split(':')[0]!, target: v.split(':')[1]! } : v,
  );
  expect(mounts).toContainEqual(expect.objectContaining({ source: dynamicConfigFile(), target }));
  // ...the file every node of the local cluster is started with.
  const node = nodeEnvironment(
    readServerEnv(),
    { host: '127.0.0.1', port: 1, user: 'temporal', password: 'x' },
    ports(),
  );
  expect(node.DYNAMIC_CONFIG_FILE_PATH).toBe(dynamicConfigFile());
});

function ports() {
  return {
    frontend: 1,
    frontendHttp: 2,
    frontendMembership: 3,
    history: 4,
    historyMembership: 5,
    matching: 6,
    matchingMembership: 7,
    worker: 8,
    workerMembership: 9,
  };
}

test('the server gets the settings of config/temporal/server.env, as every cluster node does', () => {
  const shared = readServerEnv(serverEnvFile());
  const composeEnv = services.temporal!.environment!;
  expect(composeEnv).toMatchObject(shared);
  expect(services['temporal-schema']!.environment).toMatchObject(shared);
  // Every other variable a node gets is per deployment: addresses, ports, credentials. Compose
  // sets the same ones, but for the ports (the image's defaults) and the broadcast address (its
  // entry point derives it from BIND_ON_IP), and without the process basics.
  const node = nodeEnvironment(
    shared,
    { host: '127.0.0.1', port: 1, user: 'temporal', password: 'x' },
    ports(),
  );
  const perNode = Object.keys(node).filter((k) => !(k in composeEnv));
  expect(perNode.sort()).toEqual(
    [
      'HOME',
      'PATH',
      'TEMPORAL_BROADCAST_ADDRESS',
      ...Object.keys(node).filter((k) => k.endsWith('_PORT') && k !== 'DB_PORT'),
    ].sort(),
  );
  expect(Object.keys(composeEnv).filter((k) => !(k in node))).toEqual([]);
});

test('the schema setup uses the PostgreSQL schemas of the server module, as the cluster does', () => {
  const script = services['temporal-schema']!.command!.join('\n');
  expect(script).toContain('/etc/temporal/schema/postgresql/v12/$${target#*:}/versioned');
  expect(script).toMatch(/"\$\$DBNAME:temporal" "\$\$VISIBILITY_DBNAME:visibility"/);
  expect(script).toMatch(/create-database[\s\S]*setup-schema -v 0\.0[\s\S]*update-schema -d/);
});

test("the setup registers exactly Convoy's search attributes, with the cluster's types", () => {
  expect(composeSearchAttributes(services['temporal-setup']!.command!.join('\n'))).toEqual(
    CONVOY_SEARCH_ATTRIBUTES,
  );
});

test('the worker is built from workers/Dockerfile in the repository and polls the server', () => {
  const worker = services['convoy-worker']!;
  expect(worker.build).toEqual({ context: repo, dockerfile: 'workers/Dockerfile' });
  expect(existsSync(join(repo, 'workers', 'Dockerfile'))).toBe(true);
  expect(worker.environment).toMatchObject({
    TEMPORAL_ADDRESS: 'temporal:7233',
    TEMPORAL_NAMESPACE: 'default',
  });
  // Its health check asks the worker's own readiness endpoint, on the port the worker is given.
  const port = worker.environment?.[WorkerVariables.healthPort];
  expect(port).toMatch(/^\d+$/);
  expect(worker.healthcheck?.test.join(' ')).toContain(`http://127.0.0.1:${port}${HealthPaths.readiness}`);
  // The image runs the packed package's `convoy worker` (test/unit/worker/image.test.ts has the rest).
  const dockerfile = readFileSync(join(repo, 'workers', 'Dockerfile'), 'utf8');
  const cmd = JSON.parse(/^CMD (.+)$/m.exec(dockerfile)![1]!) as string[];
  expect(cmd).toEqual(['node', '/app/bin/convoy', 'worker']);
});
