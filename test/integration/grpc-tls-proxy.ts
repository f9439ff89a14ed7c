/**
 * Test infrastructure for secured connections. The Temporal dev server speaks plaintext only
 * (`temporal server start-dev` has no TLS flags), so a real TLS-terminating gRPC proxy stands in
 * front of it: Node's HTTP/2 server with the test CA's server certificate (optionally requiring a
 * client certificate: mTLS), forwarding every stream — headers, messages, trailers — to the dev
 * server, and recording the request headers so tests can check what a client sent (an API key).
 * Certificates are made by `openssl` in a process: a CA, a server and a client certificate.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';

/** Paths of the PEM files {@link makeCertificates} wrote. */
export interface TestCertificates {
  dir: string;
  caCert: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
}

/** A CA, and a server (localhost, 127.0.0.1) and a client certificate it signed, by openssl. */
export function makeCertificates(): TestCertificates {
  const dir = mkdtempSync(join(tmpdir(), 'convoy-tls-'));
  const path = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl(
    'req',
    '-x509',
    ...ec,
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
    '-days',
    '2',
    '-subj',
    '/CN=Convoy test CA',
  );
  const sign = (name: string, subject: string, extensions: string) => {
    openssl('req', ...ec, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subject);
    writeFileSync(path(`${name}.ext`), extensions);
    openssl(
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      `${name}.pem`,
      '-days',
      '2',
      '-extfile',
      `${name}.ext`,
    );
  };
  sign(
    'server',
    '/CN=localhost',
    'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n',
  );
  sign('client', '/CN=convoy-worker', 'basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n');
  return {
    dir,
    caCert: path('ca.pem'),
    serverCert: path('server.pem'),
    serverKey: path('server.key'),
    clientCert: path('client.pem'),
    clientKey: path('client.key'),
  };
}

/** One request the proxy forwarded. */
export interface SeenRequest {
  path: string;
  authorization?: string;
  /** The client certificate's CN, with mTLS. */
  clientCn?: string;
}

/** A running proxy. */
export interface GrpcTlsProxy {
  address: string;
  seen: SeenRequest[];
  close(): Promise<void>;
}

/**
 * Starts the proxy on 127.0.0.1 in front of `upstream` (a plaintext gRPC `host:port`). With
 * `requireClientCert`, the TLS handshake fails without a certificate the CA signed.
 */
export async function startGrpcTlsProxy(
  upstream: string,
  certs: TestCertificates,
  options: { requireClientCert: boolean },
): Promise<GrpcTlsProxy> {
  const seen: SeenRequest[] = [];
  const backend = http2.connect(`http://${upstream}`);
  backend.on('error', () => undefined);
  const server = http2.createSecureServer({
    key: readFileSync(certs.serverKey),
    cert: readFileSync(certs.serverCert),
    ca: readFileSync(certs.caCert),
    requestCert: options.requireClientCert,
    rejectUnauthorized: options.requireClientCert,
  });
  server.on('stream', (stream, headers) => {
    const socket = stream.session?.socket as TLSSocket | undefined;
    const peer = socket?.getPeerCertificate?.();
    seen.push({
      path: String(headers[':path']),
      ...(headers.authorization !== undefined ? { authorization: String(headers.authorization) } : {}),
      ...(peer && peer.subject ? { clientCn: String(peer.subject.CN) } : {}),
    });
    const forwarded: http2.OutgoingHttpHeaders = {};
    for (const [name, value] of Object.entries(headers)) {
      if (name === ':scheme') forwarded[name] = 'http';
      else if (name !== ':authority' && value !== undefined) forwarded[name] = value;
    }
    const out = backend.request(forwarded);
    let trailers: http2.IncomingHttpHeaders = {};
    out.on('response', (responseHeaders, flags) => {
      const respond: http2.OutgoingHttpHeaders = { ...responseHeaders };
      // A trailers-only response (an error status) is headers with END_STREAM: pass it as such.
      if (flags & http2.constants.NGHTTP2_FLAG_END_STREAM) stream.respond(respond, { endStream: true });
      else stream.respond(respond, { waitForTrailers: true });
    });
    out.on('trailers', (t) => (trailers = t));
    stream.on('wantTrailers', () => {
      const { ':status': _status, ...rest } = trailers;
      stream.sendTrailers(rest);
    });
    out.on('data', (chunk: Buffer) => {
      if (!stream.destroyed && stream.headersSent) stream.write(chunk);
    });
    out.on('end', () => {
      if (!stream.destroyed && stream.headersSent && !stream.writableEnded) stream.end();
    });
    out.on('error', () => stream.destroy());
    stream.on('data', (chunk: Buffer) => out.write(chunk));
    stream.on('end', () => out.end());
    stream.on('close', () => {
      if (!out.closed) out.close();
    });
    stream.on('error', () => out.close());
  });
  server.on('sessionError', () => undefined);
  // Workers hold long polls open: closing must end their sessions, not wait for them.
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (session) => {
    sessions.add(session);
    session.on('close', () => sessions.delete(session));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    address: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const session of sessions) session.destroy();
      backend.destroy();
      await closed;
    },
  };
}
