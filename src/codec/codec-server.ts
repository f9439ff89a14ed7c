/**
 * `convoy codec-server`: the codec HTTP protocol the Temporal Web UI (and `temporal` CLI) speak,
 * so that those who may see payloads see them decoded in the UI while the server keeps only
 * ciphertext. `POST …/encode` and `POST …/decode` take and return proto-JSON
 * `{ "payloads": [{ "metadata": { k: base64 }, "data": base64 }] }`; only the last part of the
 * path counts, so the endpoints can be mounted under any prefix. The UI calls it from the
 * browser, so it answers CORS preflights for the origins it is given; the `X-Namespace` header
 * the UI sends is accepted (one codec serves every namespace). With a token, every request must
 * carry `Authorization: Bearer <token>`.
 */
import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { z } from 'zod';
import { PayloadDecryptionError } from './encryption-codec';

/** Requests larger than this are refused (413): Temporal's own blob limit is 2 MiB per payload. */
const MAX_BODY_BYTES = 8 * 1024 * 1024;

const base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, { error: 'expected base64' });
const bodySchema = z.object({
  payloads: z.array(
    z.object({
      metadata: z.record(z.string(), base64).nullish(),
      data: base64.nullish(),
    }),
  ),
});

/** Options of {@link startCodecServer}. */
export interface CodecServerOptions {
  codec: PayloadCodec;
  port: number;
  /** Interface to listen on; default 127.0.0.1. */
  host?: string;
  /** Browser origins allowed to call it (the Web UI's, e.g. `http://localhost:8233`); `*` for any. */
  corsOrigins: readonly string[];
  /** When set, requests must carry `Authorization: Bearer <token>`. */
  token?: string;
  /** One line per request, without payload contents. */
  log?: (line: string) => void;
}

/** A listening codec server. */
export interface RunningCodecServer {
  server: Server;
  /** `http://host:port`. */
  url: string;
  close(): Promise<void>;
}

/** Starts the codec server; resolves once it listens. */
export async function startCodecServer(options: CodecServerOptions): Promise<RunningCodecServer> {
  const server = createServer((request, response) => {
    handle(request, response, options).catch((error: unknown) => {
      reply(response, 500, { message: error instanceof Error ? error.message : String(error) });
    });
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    server,
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function handle(request: IncomingMessage, response: ServerResponse, options: CodecServerOptions) {
  allowOrigin(request, response, options.corsOrigins);
  if (request.method === 'OPTIONS') {
    response.setHeader('Access-Control-Allow-Methods', 'POST, OPTIONS');
    response.setHeader('Access-Control-Allow-Headers', 'Content-Type, X-Namespace, Authorization');
    response.setHeader('Access-Control-Max-Age', '600');
    response.writeHead(204).end();
    return;
  }
  const operation = new URL(request.url ?? '/', 'http://codec').pathname.split('/').pop();
  if (request.method !== 'POST' || (operation !== 'encode' && operation !== 'decode')) {
    reply(response, 404, { message: 'POST …/encode or …/decode' });
    return;
  }
  if (options.token !== undefined && !authorized(request, options.token)) {
    reply(response, 401, { message: 'missing or wrong Authorization: Bearer token' });
    return;
  }
  const text = await readBody(request);
  if (text === undefined) {
    reply(response, 413, { message: `the body is larger than ${MAX_BODY_BYTES} bytes` });
    return;
  }
  let parsed;
  try {
    parsed = bodySchema.safeParse(JSON.parse(text));
  } catch {
    parsed = undefined;
  }
  if (!parsed?.success) {
    reply(response, 400, { message: 'expected JSON {"payloads": [{"metadata": {...}, "data": "base64"}]}' });
    return;
  }
  const payloads = parsed.data.payloads.map(fromJson);
  try {
    const result =
      operation === 'encode' ? await options.codec.encode(payloads) : await options.codec.decode(payloads);
    reply(response, 200, { payloads: result.map(toJson) });
    options.log?.(
      `${operation} ${payloads.length} payload(s) for namespace ${request.headers['x-namespace'] ?? '(none given)'}`,
    );
  } catch (error) {
    if (error instanceof PayloadDecryptionError) reply(response, 422, { message: error.message });
    else throw error;
  }
}

function allowOrigin(request: IncomingMessage, response: ServerResponse, origins: readonly string[]): void {
  const origin = request.headers.origin;
  if (origin === undefined) return;
  if (origins.includes('*') || origins.includes(origin)) {
    response.setHeader('Access-Control-Allow-Origin', origin);
    // The UI may send cookies or its own access token with the request.
    response.setHeader('Access-Control-Allow-Credentials', 'true');
    response.setHeader('Vary', 'Origin');
  }
}

function authorized(request: IncomingMessage, token: string): boolean {
  const given = Buffer.from(request.headers.authorization ?? '');
  const expected = Buffer.from(`Bearer ${token}`);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** The body as text, or undefined when it is too large. */
async function readBody(request: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function reply(response: ServerResponse, status: number, body: object): void {
  if (response.headersSent) return;
  response.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
}

type JsonPayload = z.infer<typeof bodySchema>['payloads'][number];

function fromJson({ metadata, data }: JsonPayload): Payload {
  return {
    metadata: Object.fromEntries(
      Object.entries(metadata ?? {}).map(([key, value]) => [key, Buffer.from(value, 'base64')]),
    ),
    data: Buffer.from(data ?? '', 'base64'),
  };
}

function toJson({ metadata, data }: Payload): JsonPayload {
  return {
    metadata: Object.fromEntries(
      Object.entries(metadata ?? {}).map(([key, value]) => [key, Buffer.from(value).toString('base64')]),
    ),
    data: Buffer.from(data ?? new Uint8Array()).toString('base64'),
  };
}
