/**
 * A private PostgreSQL instance for the local Temporal cluster: the machine's PostgreSQL server
 * binaries (Debian package `postgresql`), our own data folder, port and socket folder, listening
 * on 127.0.0.1 only, with a generated password. Nothing is shared with a system PostgreSQL.
 *
 * PostgreSQL refuses to run as root; as root (CI, containers) the instance runs as the
 * `postgres` system user that the Debian package creates, and its folders are handed to it.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../../../src/dev-server/dev-server';
import { tail } from './temporal-server';

const execFileAsync = promisify(execFile);

/** The role Temporal connects as; it owns the databases it creates. */
export const POSTGRES_USER = 'temporal';

/** Raised when PostgreSQL is missing or does not start; the message says what to do or shows its log. */
export class PostgresError extends Error {
  override readonly name = 'PostgresError';
}

export interface PostgresOptions {
  /** Holds `data/` (the cluster) and `password`; created when missing, reused when present. */
  stateDir: string;
  /** Port on 127.0.0.1; default a free one. */
  port?: number;
  env?: NodeJS.ProcessEnv;
  log?: (line: string) => void;
}

/** How to reach an instance. */
export interface PostgresConnection {
  host: '127.0.0.1';
  port: number;
  user: typeof POSTGRES_USER;
  password: string;
  /** Runs one SQL statement with psql and returns its unaligned output. */
  query(sql: string, database?: string): Promise<string>;
}

/** A running instance this process started. */
export interface Postgres extends PostgresConnection {
  stop(): Promise<void>;
}

/** Connects to an instance that {@link startPostgres} started, maybe in another process. */
export function postgresConnection(
  port: number,
  password: string,
  env: NodeJS.ProcessEnv = process.env,
): PostgresConnection {
  const psql = join(findPostgresBinDir(env), 'psql');
  const clientEnv = { ...env, PGPASSWORD: password, PGCONNECT_TIMEOUT: '5' };
  return {
    host: '127.0.0.1',
    port,
    user: POSTGRES_USER,
    password,
    async query(sql, database = 'postgres') {
      const args = [
        '-h',
        '127.0.0.1',
        '-p',
        String(port),
        '-U',
        POSTGRES_USER,
        '-d',
        database,
        '-AtX',
        '-v',
        'ON_ERROR_STOP=1',
        '-c',
        sql,
      ];
      return (await execFileAsync(psql, args, { env: clientEnv })).stdout.trim();
    },
  };
}

/** `CONVOY_POSTGRES_BIN`, else the newest `/usr/lib/postgresql/<major>/bin` with a server in it. */
export function findPostgresBinDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.CONVOY_POSTGRES_BIN) {
    if (!existsSync(join(env.CONVOY_POSTGRES_BIN, 'postgres')))
      throw new PostgresError(`CONVOY_POSTGRES_BIN=${env.CONVOY_POSTGRES_BIN} holds no \`postgres\` binary`);
    return env.CONVOY_POSTGRES_BIN;
  }
  const base = '/usr/lib/postgresql';
  const majors = existsSync(base)
    ? readdirSync(base)
        .filter(
          (major) =>
            existsSync(join(base, major, 'bin', 'postgres')) &&
            existsSync(join(base, major, 'bin', 'initdb')),
        )
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (majors.length === 0)
    throw new PostgresError(
      'The local Temporal cluster needs the PostgreSQL server binaries (initdb, postgres), and none are in ' +
        `${base}/<version>/bin. Install them (Debian: apt-get install postgresql) or set CONVOY_POSTGRES_BIN to their folder.`,
    );
  return join(base, majors[0]!, 'bin');
}

/** Who runs the server: ourselves, or the `postgres` system user when we are root. */
async function serverIdentity(): Promise<{ uid: number; gid: number } | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  try {
    const [uid, gid] = await Promise.all([
      execFileAsync('id', ['-u', 'postgres']).then(({ stdout }) => Number(stdout.trim())),
      execFileAsync('id', ['-g', 'postgres']).then(({ stdout }) => Number(stdout.trim())),
    ]);
    return { uid, gid };
  } catch {
    throw new PostgresError(
      'PostgreSQL refuses to run as root, and there is no `postgres` system user to run it as ' +
        '(the Debian package `postgresql` creates one): install the package, or run as an ordinary user.',
    );
  }
}

function runAs(
  identity: { uid: number; gid: number } | undefined,
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'], ...identity });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.once('error', reject);
    child.once('close', (code) =>
      code === 0
        ? resolve(output)
        : reject(new PostgresError(`${command} failed (${code}):\n${tail(output)}`)),
    );
  });
}

/** Every instance this process started, shut down at once if the process exits without stop(). */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGQUIT');
});

/** Creates the instance in `stateDir` on first use, starts it, and waits until it accepts connections. */
export async function startPostgres(options: PostgresOptions): Promise<Postgres> {
  const env = options.env ?? process.env;
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const bin = findPostgresBinDir(env);
  const identity = await serverIdentity();
  const dataDir = join(options.stateDir, 'data');
  const passwordFile = join(options.stateDir, 'password');
  mkdirSync(options.stateDir, { recursive: true });
  const own = (path: string) => {
    if (identity) chownSync(path, identity.uid, identity.gid);
  };

  own(options.stateDir);
  if (!existsSync(join(dataDir, 'PG_VERSION'))) {
    rmSync(dataDir, { recursive: true, force: true });
    mkdirSync(dataDir, { mode: 0o700 });
    own(dataDir);
    writeFileSync(passwordFile, randomBytes(18).toString('base64url'), { mode: 0o600 });
    own(passwordFile);
    log(`PostgreSQL: initdb ${dataDir}`);
    await runAs(
      identity,
      join(bin, 'initdb'),
      [
        '-D',
        dataDir,
        '-U',
        POSTGRES_USER,
        `--pwfile=${passwordFile}`,
        '--auth=scram-sha-256',
        '-E',
        'UTF8',
        '--no-locale',
      ],
      env,
    ).catch((error: Error) => {
      rmSync(dataDir, { recursive: true, force: true });
      throw new PostgresError(
        `initdb into ${dataDir} failed${identity ? ' (as the postgres user: it must be able to reach that folder)' : ''}: ${error.message}`,
      );
    });
  }
  const password = readFileSync(passwordFile, 'utf8').trim();
  // The socket folder's path must stay short (108 bytes in all), whatever the state folder is.
  const socketDir = mkdtempSync(join(tmpdir(), 'convoy-pg-'));
  own(socketDir);
  const port = options.port ?? (await freePort());
  const args = [
    '-D',
    dataDir,
    '-p',
    String(port),
    '-k',
    socketDir,
    '-c',
    'listen_addresses=127.0.0.1',
    // Two server nodes, each with pools for the history and visibility stores.
    '-c',
    'max_connections=300',
    // A local test cluster on a shared disk: commits need not wait for fsync. PostgreSQL itself is
    // never killed here; the server nodes above it are.
    '-c',
    'synchronous_commit=off',
  ];
  const child = spawn(join(bin, 'postgres'), args, { env, stdio: ['ignore', 'pipe', 'pipe'], ...identity });
  running.add(child);
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-32 * 1024);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  let exited: string | undefined;
  const gone = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      running.delete(child);
      exited = `exited with ${signal ?? code}`;
      resolve();
    }),
  );

  const connection = postgresConnection(port, password, env);

  const deadline = Date.now() + 60_000;
  for (;;) {
    if (exited)
      throw new PostgresError(`PostgreSQL (${bin}/postgres on port ${port}) ${exited}:\n${tail(output)}`);
    if (Date.now() > deadline) {
      child.kill('SIGQUIT');
      throw new PostgresError(
        `PostgreSQL on port ${port} did not accept connections in 60 s:\n${tail(output)}`,
      );
    }
    if (
      await connection.query('select 1').then(
        () => true,
        () => false,
      )
    )
      break;
    await new Promise((r) => setTimeout(r, 200));
  }
  log(`PostgreSQL: ready on 127.0.0.1:${port} (data ${dataDir})`);

  return {
    ...connection,
    async stop() {
      if (!exited) {
        child.kill('SIGINT'); // fast shutdown: ends sessions, checkpoints, exits
        const timer = setTimeout(() => child.kill('SIGQUIT'), 20_000);
        await gone;
        clearTimeout(timer);
      }
      rmSync(socketDir, { recursive: true, force: true });
    },
  };
}
