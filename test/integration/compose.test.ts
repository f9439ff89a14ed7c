/**
 * docker-compose.temporal.yml is for users with Docker, which this machine lacks. We check it as
 * far as we can: its structure, that the exact server command it gives the `temporal` image
 * starts a working dev server with this CLI version, that its healthcheck command succeeds
 * against that server, and that the worker image's entry point exists in the build.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { freePort, searchAttributeArgs } from '../../src/dev-server/dev-server';
import { dynamicConfigArgs, readDynamicConfig } from '../../src/dev-server/dynamic-config';

const repo = resolve(__dirname, '..', '..');
const compose = parse(readFileSync(join(repo, 'docker-compose.temporal.yml'), 'utf8')) as {
  services: Record<
    string,
    {
      image?: string;
      command?: string[];
      ports?: string[];
      healthcheck?: { test: string[] };
      build?: { dockerfile: string };
      environment?: Record<string, string>;
      depends_on?: unknown;
    }
  >;
};

test('the compose file runs the official temporal image and a Convoy worker wired to it', () => {
  const { temporal, 'convoy-worker': worker } = compose.services;
  expect(temporal?.image).toMatch(/^temporalio\/temporal:\d+\.\d+\.\d+$/);
  expect(temporal?.ports).toEqual(['7233:7233', '8233:8233']);
  expect(worker?.build?.dockerfile).toBe('workers/Dockerfile');
  expect(worker?.environment?.TEMPORAL_ADDRESS).toBe('temporal:7233');
  expect(existsSync(join(repo, worker!.build!.dockerfile))).toBe(true);
  const dockerfile = readFileSync(join(repo, 'workers', 'Dockerfile'), 'utf8');
  const cmd = /CMD \["node", "([^"]+)"\]/.exec(dockerfile)?.[1];
  expect(cmd).toBe('dist/workers/worker.js');
  expect(existsSync(join(repo, cmd!))).toBe(true);
});

test("the compose file's server gets exactly the dynamic config Convoy ships", () => {
  const command = compose.services.temporal!.command!;
  const flags = command.flatMap((arg, i) => (command[i - 1] === '--dynamic-config-value' ? [arg] : []));
  const shipped = dynamicConfigArgs(readDynamicConfig()).filter((arg) => arg !== '--dynamic-config-value');
  expect(flags).toEqual(shipped);
});

test("the compose file's server registers Convoy's search attributes", () => {
  const command = compose.services.temporal!.command!;
  const flags = command.flatMap((arg, i) => (command[i - 1] === '--search-attribute' ? [arg] : []));
  expect(flags).toEqual(searchAttributeArgs().filter((arg) => arg !== '--search-attribute'));
});

test("the compose file's server command and healthcheck work with this temporal CLI", async () => {
  const cli = process.env.CONVOY_TEST_TEMPORAL_CLI!;
  const [port, uiPort] = [await freePort(), await freePort()];
  const args = compose.services.temporal!.command!.map((arg) =>
    // Same flags, but bound to loopback and free ports: tests never listen beyond 127.0.0.1.
    arg === '0.0.0.0' ? '127.0.0.1' : arg === '7233' ? String(port) : arg === '8233' ? String(uiPort) : arg,
  );
  expect(args.slice(0, 2)).toEqual(['server', 'start-dev']);
  const server = spawn(cli, args, { stdio: 'ignore' });
  try {
    const health = compose.services.temporal!.healthcheck!.test;
    expect(health[0]).toBe('CMD');
    const [binary, ...healthArgs] = health
      .slice(1)
      .map((a) => (a === '127.0.0.1:7233' ? `127.0.0.1:${port}` : a));
    expect(binary).toBe('temporal');
    let healthy = false;
    for (let i = 0; i < 60 && !healthy; i++) {
      healthy = await promisify(execFile)(cli, healthArgs).then(
        () => true,
        () => false,
      );
      if (!healthy) await new Promise((r) => setTimeout(r, 250));
    }
    expect(healthy).toBe(true);
    expect((await fetch(`http://127.0.0.1:${uiPort}`)).status).toBe(200);
  } finally {
    server.kill('SIGTERM');
  }
});
