/**
 * Where Convoy finds Temporal, loaded the way the `temporal` CLI loads it: through
 * `@temporalio/envconfig`, so the same TOML profiles (`TEMPORAL_CONFIG_FILE`, `TEMPORAL_PROFILE`)
 * and environment variables (`TEMPORAL_ADDRESS`, `TEMPORAL_NAMESPACE`, `TEMPORAL_API_KEY`,
 * `TEMPORAL_TLS_*`, `TEMPORAL_GRPC_META_*`) work for both. Flags given to Convoy override them.
 */
import { existsSync } from 'node:fs';
import { loadClientConfigProfile, toClientOptions } from '@temporalio/envconfig';
import type { TLSConfig } from '@temporalio/client';
import { z } from 'zod';
import { TemporalConfigError } from './errors';

/** Where Convoy finds Temporal: address, namespace and the task queue its workers poll. */
export interface TemporalConfig {
  address: string;
  namespace: string;
  taskQueue: string;
}

/** Explicit choices (flags, options) that win over the profile and the environment. */
export interface ConnectionOverrides {
  address?: string;
  namespace?: string;
  /** A profile of the config file; default `TEMPORAL_PROFILE`, else `default`. */
  profile?: string;
  /** Where the variables are read from; default `process.env`. */
  env?: NodeJS.ProcessEnv;
}

/** A resolved connection: what `Connection.connect` and `NativeConnection.connect` take. */
export interface TemporalConnection {
  readonly address: string;
  readonly namespace: string;
  readonly tls?: TLSConfig | boolean;
  readonly apiKey?: string;
  readonly metadata?: Record<string, string>;
  /** The profile that was read, and from which file (for `convoy doctor`; not secret). */
  readonly profile: string;
  readonly configFile?: string;
}

/**
 * The variables @temporalio/envconfig reads, as the `temporal` CLI does (plus
 * `TEMPORAL_GRPC_META_<HEADER>` for extra gRPC headers).
 */
export const CONNECTION_VARIABLES = [
  'TEMPORAL_CONFIG_FILE',
  'TEMPORAL_PROFILE',
  'TEMPORAL_ADDRESS',
  'TEMPORAL_NAMESPACE',
  'TEMPORAL_API_KEY',
  'TEMPORAL_TLS',
  'TEMPORAL_TLS_CLIENT_CERT_PATH',
  'TEMPORAL_TLS_CLIENT_CERT_DATA',
  'TEMPORAL_TLS_CLIENT_KEY_PATH',
  'TEMPORAL_TLS_CLIENT_KEY_DATA',
  'TEMPORAL_TLS_SERVER_CA_CERT_PATH',
  'TEMPORAL_TLS_SERVER_CA_CERT_DATA',
  'TEMPORAL_TLS_SERVER_NAME',
] as const;

/** The variable naming the task queue Convoy's workers poll, and its default. */
export const TASK_QUEUE_VARIABLE = 'TEMPORAL_TASK_QUEUE';
/** Task queue names as Temporal accepts them: not empty, at most 1000 characters. */
export const taskQueueSchema = z.string().min(1).max(1000).default('convoy');

const DEFAULT_ADDRESS = 'localhost:7233';
const DEFAULT_NAMESPACE = 'default';

/** An empty variable counts as unset, as it always has for Convoy (`TEMPORAL_ADDRESS= convoy …`). */
function presentVariables(env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env).filter(
      (entry): entry is [string, string] => entry[1] !== undefined && entry[1] !== '',
    ),
  );
}

/**
 * Resolves the connection: overrides, then the environment, then the profile, then the
 * defaults (`localhost:7233`, namespace `default`).
 * @throws {@link TemporalConfigError} for a missing config file or profile, an unreadable TLS
 * file or a malformed TOML file; the message never contains a secret.
 */
export function resolveTemporalConnection(overrides: ConnectionOverrides = {}): TemporalConnection {
  const env = presentVariables(overrides.env ?? process.env);
  const configFile = env.TEMPORAL_CONFIG_FILE;
  if (configFile !== undefined && !existsSync(configFile)) {
    throw new TemporalConfigError(`TEMPORAL_CONFIG_FILE=${configFile}: no such file`);
  }
  const profile = overrides.profile ?? env.TEMPORAL_PROFILE ?? 'default';
  let loaded: ReturnType<typeof toClientOptions>;
  let metadata: Record<string, string> | undefined;
  try {
    const fromProfile = loadClientConfigProfile({ profile: overrides.profile, overrideEnvVars: env });
    // toClientOptions reads the TLS files and turns an API key alone into TLS (Temporal Cloud).
    loaded = toClientOptions(fromProfile);
    metadata = fromProfile.grpcMeta;
  } catch (error) {
    // A TOML parser's message quotes the offending lines, which may hold an api_key: keep the first line.
    const reason = (error instanceof Error ? error.message : String(error)).split('\n')[0]!;
    throw new TemporalConfigError(
      `cannot load the Temporal connection (profile ${profile}${configFile ? `, ${configFile}` : ''}): ${reason}`,
      { cause: error },
    );
  }
  const options = loaded.connectionOptions;
  return {
    address: overrides.address ?? options.address ?? DEFAULT_ADDRESS,
    namespace: overrides.namespace ?? loaded.namespace ?? DEFAULT_NAMESPACE,
    ...(options.tls !== undefined && options.tls !== null ? { tls: options.tls } : {}),
    ...(options.apiKey !== undefined ? { apiKey: options.apiKey } : {}),
    ...(metadata !== undefined && Object.keys(metadata).length > 0 ? { metadata } : {}),
    profile,
    ...(configFile !== undefined ? { configFile } : {}),
  };
}

/** What `Connection.connect` (client) and `NativeConnection.connect` (worker) need. */
export function connectionOptions(connection: TemporalConnection): {
  address: string;
  tls?: TLSConfig | boolean;
  apiKey?: string;
  metadata?: Record<string, string>;
} {
  const { address, tls, apiKey, metadata } = connection;
  return {
    address,
    ...(tls !== undefined ? { tls } : {}),
    ...(apiKey !== undefined ? { apiKey } : {}),
    ...(metadata !== undefined ? { metadata } : {}),
  };
}

/** How the connection is secured, in words safe to log: names what is set, never its value. */
export function describeSecurity(connection: TemporalConnection): string {
  const parts: string[] = [];
  const tls = connection.tls;
  if (tls === undefined || tls === false) parts.push('plaintext');
  else if (tls === true) parts.push('TLS (system CAs)');
  else {
    parts.push(tls.serverRootCACertificate ? 'TLS (custom server CA)' : 'TLS (system CAs)');
    if (tls.clientCertPair) parts.push('mTLS client certificate');
    if (tls.serverNameOverride) parts.push(`server name ${tls.serverNameOverride}`);
  }
  if (connection.apiKey !== undefined) parts.push('API key set');
  const headers = Object.keys(connection.metadata ?? {});
  if (headers.length > 0) parts.push(`gRPC headers ${headers.sort().join(', ')}`);
  return parts.join(', ');
}

/** One line describing the connection, without secrets. */
export function describeConnection(connection: TemporalConnection): string {
  const source = connection.configFile ? `, profile ${connection.profile} of ${connection.configFile}` : '';
  return `${connection.address}, namespace ${connection.namespace} (${describeSecurity(connection)}${source})`;
}

/**
 * Removes the connection's secrets (API key, header values, client key) from a text, for error
 * messages that quote what a server or library said.
 */
export function redactSecrets(text: string, connection: TemporalConnection): string {
  const secrets: string[] = [];
  if (connection.apiKey) secrets.push(connection.apiKey);
  for (const value of Object.values(connection.metadata ?? {})) if (value.length >= 4) secrets.push(value);
  const tls = connection.tls;
  if (typeof tls === 'object' && tls.clientCertPair)
    secrets.push(Buffer.from(tls.clientCertPair.key).toString());
  return secrets.reduce((out, secret) => out.split(secret).join('[redacted]'), text);
}

/**
 * Reads where Temporal is (as {@link resolveTemporalConnection}) and the task queue
 * (`TEMPORAL_TASK_QUEUE`, default `convoy`).
 * @throws {@link TemporalConfigError} when the profile cannot be loaded or a value is invalid.
 */
export function temporalConfigFromEnv(env: NodeJS.ProcessEnv = process.env): TemporalConfig {
  const { address, namespace } = resolveTemporalConnection({ env });
  return { address, namespace, taskQueue: taskQueueFromEnv(env) };
}

/** `TEMPORAL_TASK_QUEUE`, validated; default `convoy`. */
export function taskQueueFromEnv(env: NodeJS.ProcessEnv = process.env): string {
  const value = env[TASK_QUEUE_VARIABLE] || undefined;
  const parsed = taskQueueSchema.safeParse(value);
  if (!parsed.success) {
    throw new TemporalConfigError(`${TASK_QUEUE_VARIABLE}: ${parsed.error.issues[0]!.message}`);
  }
  return parsed.data;
}
