/**
 * Why Temporal cannot be reached, in one line. The gRPC client says only "failed to connect
 * before the deadline" or dumps a transport error; after such a failure, Convoy retraces the
 * steps itself (is it a host:port, does the name resolve, does TCP connect, is it TLS) to name the
 * cause.
 */
import { lookup } from 'node:dns/promises';
import { Socket, isIP } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { redactSecrets, type TemporalConnection } from './config';

/** How long each step of the diagnosis may take. */
const STEP_TIMEOUT_MS = 3000;

/** Splits `host:port` (`[v6]:port` too); undefined when it is not one. */
export function parseHostPort(address: string): { host: string; port: number } | undefined {
  const match = /^(?:\[([^\]]+)\]|([^:\s]+)):(\d{1,5})$/.exec(address.trim());
  if (!match) return undefined;
  const port = Number(match[3]);
  if (port < 1 || port > 65535) return undefined;
  return { host: (match[1] ?? match[2])!, port };
}

type Probe = { ok: true } | { ok: false; code: string };

function errorCode(error: unknown): string {
  return (error as NodeJS.ErrnoException | undefined)?.code ?? String(error);
}

function tcpProbe(host: string, port: number): Promise<Probe> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (probe: Probe): void => {
      socket.destroy();
      resolve(probe);
    };
    socket.setTimeout(STEP_TIMEOUT_MS, () => done({ ok: false, code: 'TIMEOUT' }));
    socket.once('error', (error) => done({ ok: false, code: errorCode(error) }));
    socket.connect(port, host, () => done({ ok: true }));
  });
}

function tlsProbe(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tlsConnect({
      host,
      port,
      servername: isIP(host) ? undefined : host,
      rejectUnauthorized: false,
      ALPNProtocols: ['h2'],
    });
    const done = (speaksTls: boolean): void => {
      socket.destroy();
      resolve(speaksTls);
    };
    socket.setTimeout(STEP_TIMEOUT_MS, () => done(false));
    socket.once('error', () => done(false));
    socket.once('secureConnect', () => done(true));
  });
}

const TCP_CAUSES: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused: nothing listens there',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ECONNRESET: 'the connection was reset',
  TIMEOUT: `no answer within ${STEP_TIMEOUT_MS / 1000} s (the host is down or a firewall drops the connection)`,
};

/** What the diagnosis found: where the connection fails, and the cause in words. */
export interface ConnectionDiagnosis {
  /** `answers`: TCP connects in plain text; whatever failed happened above TCP. */
  stage: 'address' | 'dns' | 'tcp' | 'tls' | 'answers';
  cause: string;
}

/**
 * Retraces a connection to `address`: is it a host:port, does DNS resolve it, does TCP connect,
 * does it speak TLS where Convoy does not.
 */
export async function diagnoseConnection(address: string): Promise<ConnectionDiagnosis> {
  const target = parseHostPort(address);
  if (!target) return { stage: 'address', cause: `"${address}" is not a host:port address` };
  const { host, port } = target;
  if (!isIP(host)) {
    try {
      await lookup(host);
    } catch (error) {
      return { stage: 'dns', cause: `DNS cannot resolve ${host} (${errorCode(error)})` };
    }
  }
  const tcp = await tcpProbe(host, port);
  if (!tcp.ok) {
    return { stage: 'tcp', cause: TCP_CAUSES[tcp.code] ?? `TCP connection failed (${tcp.code})` };
  }
  if (await tlsProbe(host, port)) {
    return {
      stage: 'tls',
      cause: 'the server expects TLS, and Convoy connects without TLS (is this the right address?)',
    };
  }
  return {
    stage: 'answers',
    cause: 'TCP connects, but no Temporal frontend answers there (another service on this port?)',
  };
}

/**
 * Why a connection to `connection` failed, in one line and without a secret: the diagnosis when
 * the address, DNS or TCP explains it; otherwise (TLS set up by the profile, an API key refused,
 * another service) the first line of the transport's own message, secrets removed.
 */
export async function unreachableCause(connection: TemporalConnection, error: unknown): Promise<string> {
  const diagnosis = await diagnoseConnection(connection.address);
  if (diagnosis.stage === 'address' || diagnosis.stage === 'dns' || diagnosis.stage === 'tcp')
    return diagnosis.cause;
  if (diagnosis.stage === 'tls' && !connection.tls) return diagnosis.cause;
  const message = error instanceof Error ? error.message : String(error);
  const firstLine = message.split('\n').find((line) => line.trim() !== '') ?? message;
  return redactSecrets(firstLine.trim(), connection);
}
