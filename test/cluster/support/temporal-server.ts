/**
 * Provisions the real Temporal server, built from its Go module at a pinned version, for the
 * local cluster (two server nodes on PostgreSQL) that test/cluster runs Convoy on.
 *
 * `go install` builds `server` and the schema tool `sql` (the images call it
 * `temporal-sql-tool`) into `<tools>/temporal-server/v<version>/bin`, and the SQL schema files
 * are copied from the module source next to them, so that once provisioned nothing here needs Go
 * or the network again. Go's own caches (GOMODCACHE, GOCACHE) keep a rebuild in a fresh clone to
 * a link step.
 */
import { execFile, spawn } from 'node:child_process';
import {
  accessSync,
  chmodSync,
  constants,
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { defaultToolsDir } from '../../../src/dev-server/temporal-cli';

const execFileAsync = promisify(execFile);

/** The Temporal server release the cluster runs: the same tag as the compose file's images. */
export const TEMPORAL_SERVER_VERSION = '1.32.2';
/** The Go toolchain that builds it (the module needs Go 1.26.10 or later); `go` fetches it itself. */
export const GO_TOOLCHAIN = 'go1.27.3';
const MODULE = 'go.temporal.io/server';
const PACKAGES = ['cmd/server', 'cmd/tools/sql'] as const;

/** A provisioned server: binaries and the PostgreSQL schema folders of the same release. */
export interface TemporalServerBinaries {
  version: string;
  /** `server start` runs all four services of one node. */
  server: string;
  /** The schema tool (`temporal-sql-tool` in Temporal's images). */
  sqlTool: string;
  /** `schema/postgresql/v12/temporal/versioned` of the module. */
  schemaDir: string;
  /** `schema/postgresql/v12/visibility/versioned` of the module. */
  visibilitySchemaDir: string;
}

/** Raised when the server cannot be provisioned; the message says what to do. */
export class TemporalServerProvisionError extends Error {
  override readonly name = 'TemporalServerProvisionError';
}

export interface ProvisionOptions {
  /** Default `CONVOY_TOOLS_DIR` or `<package root>/.convoy` (git-ignored). */
  toolsDir?: string;
  env?: NodeJS.ProcessEnv;
  log?: (line: string) => void;
  /** Go build time limit; default 20 minutes (a cold build on a busy 2-core machine). */
  buildTimeoutMs?: number;
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function layout(root: string): TemporalServerBinaries {
  return {
    version: TEMPORAL_SERVER_VERSION,
    server: join(root, 'bin', 'server'),
    sqlTool: join(root, 'bin', 'sql'),
    schemaDir: join(root, 'schema', 'postgresql', 'v12', 'temporal', 'versioned'),
    visibilitySchemaDir: join(root, 'schema', 'postgresql', 'v12', 'visibility', 'versioned'),
  };
}

/** Go's module cache is read-only; our copy must be removable by a later provisioning. */
function makeWritable(dir: string): void {
  chmodSync(dir, 0o755);
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) makeWritable(path);
    else chmodSync(path, 0o644);
  }
}

/** The last `lines` lines of a command's output: a failed Go build says why at the end. */
export function tail(text: string, lines = 30): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

/** Runs a command, keeping the tail of its output; rejects with that tail on failure. */
function run(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  timeoutMs: number,
): Promise<{ output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-64 * 1024);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(Object.assign(error, { output }));
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve({ output });
      else {
        const why =
          signal === 'SIGKILL' ? `was stopped after ${timeoutMs / 1000} s` : `exited with ${signal ?? code}`;
        reject(Object.assign(new Error(`${command} ${args.join(' ')} ${why}`), { output }));
      }
    });
  });
}

/** `GO`, else `go` on PATH, else Go's standard install location. */
function goCommand(env: NodeJS.ProcessEnv): string {
  if (env.GO) return env.GO;
  const onPath = (env.PATH ?? '').split(delimiter).some((dir) => dir && isExecutable(join(dir, 'go')));
  return onPath || !isExecutable('/usr/local/go/bin/go') ? 'go' : '/usr/local/go/bin/go';
}

/** Checks that Go exists and can fetch a newer toolchain (GOTOOLCHAIN needs Go 1.21+). */
async function checkGo(go: string, env: NodeJS.ProcessEnv): Promise<string> {
  let version: string;
  try {
    ({ stdout: version } = await execFileAsync(go, ['version'], { env: { ...env, GOTOOLCHAIN: 'local' } }));
  } catch {
    throw new TemporalServerProvisionError(
      `Go is needed to build the Temporal server ${TEMPORAL_SERVER_VERSION} from source, and \`${go}\` is not there (set GO or PATH).\n` +
        "Install Go 1.21 or later (https://go.dev/dl/; Debian 12's golang-go is 1.19, too old), then run again: " +
        `Go fetches the ${GO_TOOLCHAIN} toolchain the server needs by itself.`,
    );
  }
  const match = /go(\d+)\.(\d+)/.exec(version);
  if (match && (Number(match[1]) < 1 || (Number(match[1]) === 1 && Number(match[2]) < 21))) {
    throw new TemporalServerProvisionError(
      `${version.trim()} cannot fetch the ${GO_TOOLCHAIN} toolchain the Temporal server needs (GOTOOLCHAIN needs Go 1.21 or later). ` +
        'Install a newer Go from https://go.dev/dl/ and run again.',
    );
  }
  return version.trim();
}

/**
 * Returns the provisioned server binaries, building them first if this tools folder has none.
 * The build goes to a temporary folder that is renamed into place only when complete, so an
 * interrupted build never leaves a half-provisioned server behind.
 */
export async function provisionTemporalServer(
  options: ProvisionOptions = {},
): Promise<TemporalServerBinaries> {
  const env = options.env ?? process.env;
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const root = join(
    options.toolsDir ?? defaultToolsDir(env),
    'temporal-server',
    `v${TEMPORAL_SERVER_VERSION}`,
  );
  const wanted = layout(root);
  const complete = join(root, '.complete');
  if (existsSync(complete) && isExecutable(wanted.server) && isExecutable(wanted.sqlTool)) {
    log(`Temporal server ${TEMPORAL_SERVER_VERSION}: using ${root}`);
    return wanted;
  }

  const go = goCommand(env);
  const goVersion = await checkGo(go, env);
  const staging = `${root}.partial-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(join(staging, 'bin'), { recursive: true });
  const goEnv = { ...env, GOTOOLCHAIN: GO_TOOLCHAIN, GOBIN: join(staging, 'bin') };
  const targets = PACKAGES.map((p) => `${MODULE}/${p}@v${TEMPORAL_SERVER_VERSION}`);
  const started = Date.now();
  log(
    `Temporal server ${TEMPORAL_SERVER_VERSION}: building ${targets.join(' and ')} with ${GO_TOOLCHAIN} ` +
      `(${goVersion}; a few minutes the first time, seconds once Go's caches have it)`,
  );
  try {
    await run(go, ['install', ...targets], goEnv, options.buildTimeoutMs ?? 20 * 60_000);
    // The schema files ship in the module source, which `go install` just downloaded.
    const { output } = await run(
      go,
      ['mod', 'download', '-json', `${MODULE}@v${TEMPORAL_SERVER_VERSION}`],
      goEnv,
      5 * 60_000,
    );
    const moduleDir = (JSON.parse(output) as { Dir?: string }).Dir;
    if (!moduleDir || !existsSync(join(moduleDir, 'schema', 'postgresql')))
      throw Object.assign(new Error(`go mod download printed no module folder with schema/postgresql`), {
        output,
      });
    const schema = join(staging, 'schema', 'postgresql');
    cpSync(join(moduleDir, 'schema', 'postgresql'), schema, { recursive: true });
    makeWritable(schema);
  } catch (error) {
    rmSync(staging, { recursive: true, force: true });
    const output = (error as { output?: string }).output ?? '';
    throw new TemporalServerProvisionError(
      `Could not build the Temporal server ${TEMPORAL_SERVER_VERSION}: ${(error as Error).message}\n` +
        `Last lines of Go's output:\n${tail(output) || '(none)'}`,
      { cause: error },
    );
  }
  writeFileSync(join(staging, '.complete'), `${TEMPORAL_SERVER_VERSION} ${GO_TOOLCHAIN}\n`);
  rmSync(root, { recursive: true, force: true });
  mkdirSync(join(root, '..'), { recursive: true });
  renameSync(staging, root);
  log(
    `Temporal server ${TEMPORAL_SERVER_VERSION}: built in ${Math.round((Date.now() - started) / 1000)} s into ${root}`,
  );
  return wanted;
}
