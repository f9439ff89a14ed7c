/**
 * The http step activity against a real HTTP server on 127.0.0.1 (random port).
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CancelledFailure } from '@temporalio/common';
import {
  ActivityErrorTypes,
  createHttpActivity,
  runHttp,
  type HttpActivityInput,
} from '../../../src/activities';
import { expectApplicationFailure, newActivityEnvironment, rejectionOf, runActivity } from './helpers';

jest.setTimeout(15_000);

/** A request as the server saw it. */
interface ReceivedRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
  /** Resolves when the client side of the connection went away. */
  closed: Promise<void>;
}

let server: Server;
let baseUrl: string;
let received: ReceivedRequest[] = [];
/** Resolvers waiting for the next request to arrive. */
let waiters: Array<(request: ReceivedRequest) => void> = [];

function nextRequest(): Promise<ReceivedRequest> {
  return new Promise((resolve) => waiters.push(resolve));
}

const LARGE_BODY = `${'x'.repeat(1_000_000)}END`;

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const request: ReceivedRequest = {
    method: req.method ?? '',
    url: req.url ?? '',
    headers: req.headers,
    body: Buffer.concat(chunks).toString('utf8'),
    closed: new Promise((resolve) => res.once('close', () => resolve())),
  };
  received.push(request);
  for (const waiter of waiters.splice(0)) waiter(request);

  switch (req.url) {
    case '/ok':
      res.writeHead(200, { 'content-type': 'text/plain' }).end('all good');
      return;
    case '/unavailable':
      res.writeHead(503).end('upstream unavailable:\n  payments-db is down');
      return;
    case '/echo':
      res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify({ saw: request.body }));
      return;
    case '/redirect':
      res.writeHead(302, { location: '/ok' }).end();
      return;
    case '/large':
      res.writeHead(200).end(LARGE_BODY);
      return;
    case '/slow-headers':
      return; // never answers; the connection is closed by the client or in afterAll
    case '/slow-body':
      res.writeHead(200).write('partial'); // headers and a first chunk, then nothing
      return;
    default:
      res.writeHead(404).end('no such route');
  }
}

beforeAll(async () => {
  server = createServer((req, res) => void handle(req, res));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  server.close();
  await once(server, 'close');
});

beforeEach(() => {
  received = [];
  waiters = [];
});

function httpInput(path: string, extra: Partial<HttpActivityInput> = {}): HttpActivityInput {
  return {
    method: 'GET',
    url: `${baseUrl}${path}`,
    headers: {},
    expectStatus: [200],
    workflowName: 'payments',
    stepName: 'verify',
    ...extra,
  };
}

describe('runHttp: status checks', () => {
  it('returns the status and the body tail when the status is expected', async () => {
    const { env } = newActivityEnvironment();
    const result = await runActivity(env, runHttp, httpInput('/ok'));
    expect(result).toEqual({ httpStatus: 200, bodyTail: 'all good' });
  });

  it('fails with a non-retryable step-failed naming the status, the expected list and the body', async () => {
    const { env } = newActivityEnvironment();
    const failure = await expectApplicationFailure(
      runActivity(env, runHttp, httpInput('/unavailable', { expectStatus: [200, 204] })),
    );
    expect(failure.type).toBe(ActivityErrorTypes.stepFailed);
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain('http step "verify" of workflow "payments"');
    expect(failure.message).toContain(`GET ${baseUrl}/unavailable returned HTTP 503, expected 200 or 204`);
    // The excerpt is on one line so the message stays readable in a status table.
    expect(failure.message).toContain('body: upstream unavailable: payments-db is down');
    expect(failure.details).toEqual([
      { httpStatus: 503, bodyTail: 'upstream unavailable:\n  payments-db is down' },
    ]);
  });

  it('does not follow redirects: the status checked is the one the server sent', async () => {
    const { env } = newActivityEnvironment();
    const result = await runActivity(env, runHttp, httpInput('/redirect', { expectStatus: [302] }));
    expect(result.httpStatus).toBe(302);

    const failure = await expectApplicationFailure(runActivity(env, runHttp, httpInput('/redirect')));
    expect(failure.message).toContain('returned HTTP 302 (Location: /ok), expected 200');
  });

  it('keeps only the last 4 KiB of a large body', async () => {
    const { env } = newActivityEnvironment();
    const result = await runActivity(env, runHttp, httpInput('/large'));
    expect(Buffer.byteLength(result.bodyTail)).toBe(4096);
    expect(result.bodyTail.endsWith('xxEND')).toBe(true);
  });
});

describe('runHttp: request contents', () => {
  it('sends the method, the headers and the body', async () => {
    const { env } = newActivityEnvironment();
    const payload = JSON.stringify({ service: 'payments', version: '1.4.2' });
    const result = await runActivity(
      env,
      runHttp,
      httpInput('/echo', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'X-Convoy-Token': 'abc 123' },
        body: payload,
        expectStatus: [201],
      }),
    );
    expect(received).toHaveLength(1);
    const [request] = received;
    expect(request.method).toBe('POST');
    expect(request.url).toBe('/echo');
    expect(request.headers['content-type']).toBe('application/json');
    expect(request.headers['x-convoy-token']).toBe('abc 123');
    expect(request.body).toBe(payload);
    expect(result).toEqual({ httpStatus: 201, bodyTail: JSON.stringify({ saw: payload }) });
  });
});

describe('runHttp: timeouts, connection errors and cancellation', () => {
  it('fails with step-timeout when no response arrives within timeoutMs, and drops the connection', async () => {
    const { env } = newActivityEnvironment();
    const started = Date.now();
    const arrived = nextRequest();
    const failure = await expectApplicationFailure(
      runActivity(env, runHttp, httpInput('/slow-headers', { timeoutMs: 500 })),
    );
    const elapsed = Date.now() - started;
    expect(failure.type).toBe(ActivityErrorTypes.stepTimeout);
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain(`GET ${baseUrl}/slow-headers timed out after 500 ms`);
    expect(failure.details).toEqual([{}]);
    expect(elapsed).toBeGreaterThanOrEqual(500);
    expect(elapsed).toBeLessThan(1_500);
    await (
      await arrived
    ).closed;
  });

  it('counts reading the body against timeoutMs too', async () => {
    const { env } = newActivityEnvironment();
    const failure = await expectApplicationFailure(
      runActivity(env, runHttp, httpInput('/slow-body', { timeoutMs: 500 })),
    );
    expect(failure.type).toBe(ActivityErrorTypes.stepTimeout);
    expect(failure.message).toContain('while reading the body of a 200 response');
    expect(failure.details).toEqual([{ httpStatus: 200, bodyTail: 'partial' }]);
  });

  it('fails with step-failed naming the cause when the connection is refused', async () => {
    // A port that was just free: listen, note it, close.
    const probe = createServer();
    probe.listen(0, '127.0.0.1');
    await once(probe, 'listening');
    const port = (probe.address() as AddressInfo).port;
    probe.close();
    await once(probe, 'close');

    const { env } = newActivityEnvironment();
    const failure = await expectApplicationFailure(
      runActivity(env, runHttp, httpInput('/', { url: `http://127.0.0.1:${port}/health` })),
    );
    expect(failure.type).toBe(ActivityErrorTypes.stepFailed);
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain(`GET http://127.0.0.1:${port}/health failed`);
    expect(failure.message).toContain('ECONNREFUSED');
    expect(failure.details).toEqual([{}]);
  });

  it('fails with step-failed for a URL fetch cannot use', async () => {
    const { env } = newActivityEnvironment();
    const failure = await expectApplicationFailure(
      runActivity(env, runHttp, httpInput('/', { url: 'not a url' })),
    );
    expect(failure.type).toBe(ActivityErrorTypes.stepFailed);
    expect(failure.message).toContain('GET not a url failed');
  });

  it('on cancellation: aborts the request and rethrows the CancelledFailure', async () => {
    const { env } = newActivityEnvironment();
    const arrived = nextRequest();
    const running = runActivity(env, runHttp, httpInput('/slow-headers'));
    const request = await arrived;

    env.cancel();
    const error = await rejectionOf(running);
    expect(error).toBeInstanceOf(CancelledFailure);
    // The server sees the client hang up: the request was really aborted, not just abandoned.
    await request.closed;
  });

  it('heartbeats while waiting for the response', async () => {
    const { env, heartbeats } = newActivityEnvironment();
    const run = createHttpActivity({ heartbeatIntervalMs: 100 });
    await expectApplicationFailure(runActivity(env, run, httpInput('/slow-headers', { timeoutMs: 450 })));
    expect(heartbeats.length).toBeGreaterThanOrEqual(3);
    expect(heartbeats[0]).toEqual({ elapsedMs: expect.any(Number), httpStatus: undefined, bodyBytes: 0 });
  });

  it('rejects invalid input with a non-retryable step-failed naming the field', async () => {
    const { env } = newActivityEnvironment();
    const failure = await expectApplicationFailure(
      runActivity(env, runHttp, httpInput('/ok', { expectStatus: [] })),
    );
    expect(failure.type).toBe(ActivityErrorTypes.stepFailed);
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain('invalid runHttp input: expectStatus');
    expect(received).toHaveLength(0);
  });
});
