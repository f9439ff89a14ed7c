/**
 * Secrets on the worker: reading them, masking them in streams, texts and failures, and the shell
 * and http activities run for real with secrets (a real /bin/sh, a real HTTP server).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { createHttpActivity, createShellActivity } from '../../../src/activities';
import { MaskedTail, SecretMask } from '../../../src/activities/secret-mask';
import { resolveSecrets, SecretUnavailableError } from '../../../src/activities/secrets';
import { expectApplicationFailure, newActivityEnvironment, runActivity } from './helpers';

jest.setTimeout(30_000);

const SECRET = 's3cr3t-Value!';

describe('resolveSecrets', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'convoy-secrets-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const readers = (env: NodeJS.ProcessEnv) => ({
    env,
    readFile: (path: string) => import('node:fs/promises').then((fs) => fs.readFile(path, 'utf8')),
  });

  it('reads the environment and files, dropping one trailing line break of a file', async () => {
    writeFileSync(join(dir, 'db'), 'pa ss\n');
    const resolved = await resolveSecrets(
      { TOKEN: { env: 'MY_TOKEN' }, DB: { file: join(dir, 'db') } },
      readers({ MY_TOKEN: SECRET }),
    );
    expect(Object.fromEntries(resolved.values)).toEqual({ TOKEN: SECRET, DB: 'pa ss' });
    expect(resolved.mask.text(`a ${SECRET} b pa ss`)).toBe('a *** b ***');
  });

  it('names the secret and its source, never a value, when one is missing or empty', async () => {
    await expect(resolveSecrets({ TOKEN: { env: 'MY_TOKEN' } }, readers({}))).rejects.toThrow(
      new SecretUnavailableError('secret TOKEN (environment variable MY_TOKEN) is not set on this worker'),
    );
    await expect(resolveSecrets({ TOKEN: { env: 'MY_TOKEN' } }, readers({ MY_TOKEN: '' }))).rejects.toThrow(
      'secret TOKEN (environment variable MY_TOKEN) is empty on this worker',
    );
    const missing = join(dir, 'nope');
    await expect(resolveSecrets({ DB: { file: missing } }, readers({}))).rejects.toThrow(
      `secret DB (file ${missing}) cannot be read on this worker: ENOENT`,
    );
  });
});

describe('SecretMask', () => {
  it('masks a value as written, percent-encoded and line by line, longest first', () => {
    const mask = new SecretMask(['a b/c', 'line-one\nline-two', 'a b']);
    expect(mask.text('x a b/c y a%20b%2Fc z a b')).toBe('x *** y *** z ***');
    expect(mask.text('only line-two here')).toBe('only *** here');
    expect(mask.deep({ m: ['a b', 1, { n: 'a b/c' }] })).toEqual({ m: ['***', 1, { n: '***' }] });
  });

  it('never leaves a value half visible in a stream, whatever the chunks and the tail cut', () => {
    const mask = new SecretMask([SECRET]);
    const stream = `start ${SECRET} middle ${SECRET}${SECRET} end ${SECRET}`;
    const bytes = Buffer.from(stream);
    for (const chunkSize of [1, 2, 3, 5, 7, 13, 64]) {
      for (const limit of [4, 9, 10, 11, 20, 1000]) {
        const tail = new MaskedTail(limit, mask);
        for (let at = 0; at < bytes.length; at += chunkSize) tail.push(bytes.subarray(at, at + chunkSize));
        const text = tail.toString();
        // No suffix of the secret longer than a character can stand at the start of the tail.
        for (let cut = 0; cut < SECRET.length - 1; cut++)
          expect(text.startsWith(SECRET.slice(cut))).toBe(false);
        expect(text).not.toContain(SECRET);
        expect(`start *** middle ****** end ***`.endsWith(text)).toBe(true);
      }
    }
  });

  it('masks an ApplicationFailure: message, details, stack and cause', () => {
    const mask = new SecretMask([SECRET]);
    const failure = ApplicationFailure.create({
      type: 'step-failed',
      message: `boom ${SECRET}`,
      nonRetryable: true,
      details: [{ stderrTail: SECRET }],
      cause: new Error(`inner ${SECRET}`),
    });
    const masked = mask.error(failure) as ApplicationFailure;
    expect(masked.message).toBe('boom ***');
    expect(masked.type).toBe('step-failed');
    expect(masked.nonRetryable).toBe(true);
    expect(masked.details).toEqual([{ stderrTail: '***' }]);
    expect(masked.stack).not.toContain(SECRET);
    expect(masked.cause?.message).toBe('inner ***');
  });
});

describe('shell steps with secrets', () => {
  beforeAll(() => (process.env.CONVOY_TEST_SHELL_SECRET = SECRET));
  afterAll(() => delete process.env.CONVOY_TEST_SHELL_SECRET);

  it('gets the value in its command and env, and reports only masks', async () => {
    const { env } = newActivityEnvironment();
    const result = await runActivity(env, createShellActivity(), {
      // What `${{ secrets.TOKEN }}` compiles to in a command, and a template in env.
      command: 'printf "%s|%s|%s" "$CONVOY_SECRET_TOKEN" "$AUTH" "${#CONVOY_SECRET_TOKEN}"',
      env: { AUTH: 'Bearer ${{ secrets.TOKEN }}' },
      secrets: { TOKEN: { env: 'CONVOY_TEST_SHELL_SECRET' } },
      workflowName: 'w',
      stepName: 's',
    });
    // The length proves the command saw the value itself.
    expect(result.stdoutTail).toBe(`***|Bearer ***|${SECRET.length}`);
  });

  it('masks the value in a failure message, its details and the stderr tail', async () => {
    const { env } = newActivityEnvironment();
    const failure = await expectApplicationFailure(
      runActivity(env, createShellActivity(), {
        command: 'echo "token is $CONVOY_SECRET_TOKEN" >&2; exit 3',
        env: {},
        secrets: { TOKEN: { env: 'CONVOY_TEST_SHELL_SECRET' } },
        workflowName: 'w',
        stepName: 's',
      }),
    );
    expect(failure.message).toContain('stderr: token is ***');
    expect(JSON.stringify(failure.details)).toContain('token is ***');
    expect(JSON.stringify({ m: failure.message, d: failure.details, s: failure.stack })).not.toContain(
      SECRET,
    );
  });

  it('fails before starting, naming the secret and its source, when it is missing', async () => {
    const { env } = newActivityEnvironment();
    const failure = await expectApplicationFailure(
      runActivity(env, createShellActivity(), {
        command: 'touch should-not-run',
        env: {},
        secrets: { TOKEN: { env: 'CONVOY_TEST_NOT_SET' } },
        workflowName: 'w',
        stepName: 's',
      }),
    );
    expect(failure.type).toBe('step-failed');
    expect(failure.message).toBe(
      'shell step "s" of workflow "w": secret TOKEN (environment variable CONVOY_TEST_NOT_SET) is not set on this worker',
    );
  });
});

describe('http steps with secrets', () => {
  let server: Server;
  let base: string;
  beforeAll(async () => {
    process.env.CONVOY_TEST_HTTP_SECRET = SECRET;
    // Echoes what it got, so a leak would show in the body tail.
    server = createServer((request, response) => {
      response.statusCode = request.url?.includes('fail') ? 500 : 200;
      response.end(`path=${decodeURIComponent(request.url ?? '')} auth=${request.headers.authorization}`);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    delete process.env.CONVOY_TEST_HTTP_SECRET;
    await new Promise((resolve) => server.close(resolve));
  });
  const input = (path: string) => ({
    method: 'GET',
    url: `${base}/${path}/\${{ secrets.TOKEN }}`,
    headers: { Authorization: 'Bearer ${{ secrets.TOKEN }}' },
    expectStatus: [200],
    secrets: { TOKEN: { env: 'CONVOY_TEST_HTTP_SECRET' } },
    workflowName: 'w',
    stepName: 'h',
  });

  it('sends the value in the URL and a header, and masks the echo', async () => {
    const { env } = newActivityEnvironment();
    const result = await runActivity(env, createHttpActivity(), input('ok'));
    expect(result).toEqual({ httpStatus: 200, bodyTail: 'path=/ok/*** auth=Bearer ***' });
  });

  it('names the URL by its reference in a failure, and masks the body excerpt', async () => {
    const { env } = newActivityEnvironment();
    const failure = await expectApplicationFailure(runActivity(env, createHttpActivity(), input('fail')));
    expect(failure.message).toBe(
      `http step "h" of workflow "w": GET ${base}/fail/\${{ secrets.TOKEN }} returned HTTP 500, expected 200; body: path=/fail/*** auth=Bearer ***`,
    );
    expect(JSON.stringify({ d: failure.details, s: failure.stack })).not.toContain(SECRET);
  });
});
