/**
 * The local cluster's provisioning fails clearly: no Go, a failed build (with the end of Go's
 * output), a bad settings file. A provisioned server is reused without asking Go anything.
 */
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readServerEnv, serverEnvFile } from '../../cluster/support/cluster';
import { composeScript, composeSearchAttributes } from '../../cluster/support/compose';
import {
  provisionTemporalServer,
  TEMPORAL_SERVER_VERSION,
  TemporalServerProvisionError,
} from '../../cluster/support/temporal-server';

const quiet = () => undefined;

function fakeGo(dir: string, script: string): string {
  const go = join(dir, 'go');
  writeFileSync(go, `#!/bin/sh\n${script}\n`);
  chmodSync(go, 0o755);
  return go;
}

test('without Go, provisioning says how to get it', async () => {
  const toolsDir = mkdtempSync(join(tmpdir(), 'convoy-tools-'));
  const error = await provisionTemporalServer({
    toolsDir,
    env: { PATH: '/nonexistent', GO: '/nonexistent/go' },
    log: quiet,
  }).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(TemporalServerProvisionError);
  expect((error as Error).message).toMatch(/Go is needed to build the Temporal server .* from source/);
  expect((error as Error).message).toMatch(/Install Go 1\.21 or later \(https:\/\/go\.dev\/dl\//);
});

test('a Go too old to fetch the toolchain is named', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'convoy-go-'));
  const go = fakeGo(dir, 'echo "go version go1.19.8 linux/amd64"');
  const error = await provisionTemporalServer({
    toolsDir: dir,
    env: { PATH: '/usr/bin:/bin', GO: go },
    log: quiet,
  }).catch((e: unknown) => e);
  expect((error as Error).message).toMatch(/go1\.19\.8 linux\/amd64 cannot fetch the go1\.27\.3 toolchain/);
});

test('a failed build shows the end of what Go said, and leaves nothing half-provisioned', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'convoy-go-'));
  const lines = Array.from({ length: 50 }, (_, i) => `echo "compiling package ${i}"`).join('\n');
  const go = fakeGo(
    dir,
    `if [ "$1" = version ]; then echo "go version go1.26.8 linux/amd64"; exit 0; fi\n${lines}\necho "server.go:42: undefined: boom" >&2\nexit 1`,
  );
  const error = await provisionTemporalServer({
    toolsDir: dir,
    env: { PATH: '/usr/bin:/bin', GO: go },
    log: quiet,
  }).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(TemporalServerProvisionError);
  const message = (error as Error).message;
  expect(message).toMatch(
    /Could not build the Temporal server 1\.32\.2: .*go install go\.temporal\.io\/server\/cmd\/server@v1\.32\.2 .* exited with 1/,
  );
  expect(message).toContain('server.go:42: undefined: boom');
  expect(message).toContain('compiling package 49');
  expect(message).not.toContain('compiling package 5\n');
  expect(readdirSync(join(dir, 'temporal-server'))).toEqual([]);
  const again = await provisionTemporalServer({
    toolsDir: dir,
    env: { PATH: '/usr/bin:/bin', GO: go },
    log: quiet,
  }).catch((e: unknown) => e);
  expect(again).toBeInstanceOf(TemporalServerProvisionError);
});

test('a provisioned server is reused without Go', async () => {
  const toolsDir = mkdtempSync(join(tmpdir(), 'convoy-tools-'));
  const root = join(toolsDir, 'temporal-server', `v${TEMPORAL_SERVER_VERSION}`);
  mkdirSync(join(root, 'bin'), { recursive: true });
  for (const name of ['server', 'sql'])
    writeFileSync(join(root, 'bin', name), '#!/bin/sh\n', { mode: 0o755 });
  writeFileSync(join(root, '.complete'), TEMPORAL_SERVER_VERSION);
  const found = await provisionTemporalServer({
    toolsDir,
    env: { PATH: '/nonexistent', GO: '/nonexistent/go' },
    log: quiet,
  });
  expect(found).toMatchObject({
    version: TEMPORAL_SERVER_VERSION,
    server: join(root, 'bin', 'server'),
    sqlTool: join(root, 'bin', 'sql'),
  });
  expect(found.schemaDir).toBe(join(root, 'schema', 'postgresql', 'v12', 'temporal', 'versioned'));
});

test('the shared server settings are validated, naming the file and the variable', () => {
  expect(readServerEnv(serverEnvFile())).toMatchObject({ DB: 'postgres12', NUM_HISTORY_SHARDS: '4' });
  const dir = mkdtempSync(join(tmpdir(), 'convoy-env-'));
  const bad = join(dir, 'server.env');
  writeFileSync(
    bad,
    '# comment\nDB=postgres12\nDBNAME=t\nVISIBILITY_DBNAME=v\nNUM_HISTORY_SHARDS=four\nLOG_LEVEL=info\n',
  );
  expect(() => readServerEnv(bad)).toThrow(`${bad}: NUM_HISTORY_SHARDS:`);
  writeFileSync(bad, 'DB=mysql8\n');
  expect(() => readServerEnv(bad)).toThrow(`${bad}: DB:`);
  writeFileSync(bad, 'just words\n');
  expect(() => readServerEnv(bad)).toThrow(`${bad}: expected KEY=value, got "just words"`);
});

test("the compose file's setup script lists search attributes as Name:Type", () => {
  expect(composeSearchAttributes('for attribute in A:Keyword B:KeywordList; do\n  x\ndone')).toEqual({
    A: 'Keyword',
    B: 'KeywordList',
  });
  expect(() => composeSearchAttributes('echo nothing')).toThrow(/no `for attribute in/);
  expect(composeScript('temporal-setup')).toContain('name=${attribute%%:*}');
});
