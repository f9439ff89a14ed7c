/**
 * `convoy doctor` on real servers: the run's dev server with the dynamic config Convoy ships
 * (a worker polling, the search attributes registered: exit 0), a dev server with Temporal's
 * default config (timers about a second late, nothing registered, nobody polling: exit 1 naming
 * each fix), and no server at all.
 */
import { temporal } from '@temporalio/proto';
import { CONVOY_SEARCH_ATTRIBUTES, TIMER_LATENESS_LIMIT_MS } from '../../src/cli/doctor';
import { readDynamicConfig } from '../../src/dev-server/dynamic-config';
import { startDevServer, type DevServer } from '../../src/dev-server/dev-server';
import {
  connectTestEnv,
  eventually,
  recordTimerProbeHistories,
  runConvoy,
  testServerAddress,
  type TestEnv,
} from './harness';

const IndexedValueType = temporal.api.enums.v1.IndexedValueType;
const indexedType = {
  Keyword: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
  KeywordList: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST,
} as const;

let env: TestEnv;
let defaultServer: DevServer | undefined;
beforeAll(async () => {
  env = await connectTestEnv('doctor');
});
afterAll(async () => {
  await env.close();
  await defaultServer?.stop();
});

/** "✓ label  detail" lines by label, and the fixes. */
function parseReport(stdout: string) {
  const checks = new Map<string, { ok: boolean; detail: string }>();
  for (const line of stdout.split('\n')) {
    const match = /^([✓✗]) (.+?)\s{2,}(.*)$/.exec(line);
    if (match) checks.set(match[2]!, { ok: match[1] === '✓', detail: match[3]! });
  }
  const fixes = stdout.split('\n').filter((line) => line.startsWith('- '));
  return { checks, fixes };
}

test('on a server with the shipped dynamic config, a polling worker and the search attributes: all well, exit 0', async () => {
  const existing = await env.connection.operatorService.listSearchAttributes({ namespace: 'default' });
  const missing = CONVOY_SEARCH_ATTRIBUTES.filter((a) => !(a.name in (existing.customAttributes ?? {})));
  if (missing.length > 0) {
    await env.connection.operatorService.addSearchAttributes({
      namespace: 'default',
      searchAttributes: Object.fromEntries(missing.map((a) => [a.name, indexedType[a.cliType]])),
    });
  }
  await eventually(
    async () =>
      Object.keys(
        (await env.connection.operatorService.listSearchAttributes({ namespace: 'default' }))
          .customAttributes ?? {},
      ),
    (names) => CONVOY_SEARCH_ATTRIBUTES.every((a) => names.includes(a.name)),
  );
  await env.startWorker();

  // --address wins over TEMPORAL_ADDRESS (which points nowhere here).
  const result = await runConvoy(
    ['--address', testServerAddress(), 'doctor', '--task-queue', env.taskQueue],
    {
      TEMPORAL_ADDRESS: '127.0.0.1:1',
    },
  );
  const { checks, fixes } = parseReport(result.stdout);
  expect(fixes).toEqual([]);
  expect(result.code).toBe(0);
  expect([...checks.keys()]).toEqual([
    'connection',
    'server',
    'namespace',
    'workers',
    'search attributes',
    'timer precision',
  ]);
  expect(checks.get('connection')!.detail).toBe(`${testServerAddress()}, namespace default (plaintext)`);
  expect(checks.get('server')!.detail).toMatch(/^Temporal \d+\.\d+\.\d+/);
  expect(checks.get('workers')!.detail).toMatch(
    new RegExp(`^${env.taskQueue}: [1-9]\\d* workflow and [1-9]\\d* activity pollers$`),
  );
  const late = Number(/fires (-?\d+) ms late/.exec(checks.get('timer precision')!.detail)![1]);
  expect(late).toBeLessThanOrEqual(TIMER_LATENESS_LIMIT_MS);
  expect(result.stdout).toContain('Convoy is ready to run on this Temporal service.');
  await recordTimerProbeHistories(env);
});

test("on a server with Temporal's default dynamic config: timers a second late, exit 1 naming each fix", async () => {
  const shipped = Object.fromEntries(Object.keys(readDynamicConfig()).map((key) => [key, null]));
  defaultServer = await startDevServer({ dynamicConfig: shipped, searchAttributes: false });
  const result = await runConvoy(['doctor'], {
    TEMPORAL_ADDRESS: defaultServer.address,
    TEMPORAL_TASK_QUEUE: 'convoy',
  });
  expect(result.code).toBe(1);
  const { checks, fixes } = parseReport(result.stdout);
  const timer = checks.get('timer precision')!;
  expect(timer.ok).toBe(false);
  // The default time shift is 1 s: a 100 ms timer fires most of a second late.
  expect(Number(/fires (\d+) ms late/.exec(timer.detail)![1])).toBeGreaterThan(500);
  expect(checks.get('workers')).toEqual({ ok: false, detail: 'convoy: 0 workflow and 0 activity pollers' });
  expect(checks.get('search attributes')).toEqual({
    ok: false,
    detail: 'missing ConvoyPipeline, ConvoyStatus, ConvoyWaitingBarriers',
  });
  expect(fixes).toHaveLength(3);
  expect(fixes.find((f) => f.startsWith('- timer precision:'))).toContain(
    'history.timerProcessorMaxTimeShift',
  );
  expect(fixes.find((f) => f.startsWith('- timer precision:'))).toContain('server.dynamicConfig');
  expect(fixes.find((f) => f.startsWith('- workers:'))).toContain('convoy worker');
  expect(fixes.find((f) => f.startsWith('- search attributes:'))).toContain(
    'temporal operator search-attribute create --namespace default --name ConvoyWaitingBarriers --type KeywordList',
  );
});

test('with no server: exit 1, the connection it tried, the fix, and no secret', async () => {
  const result = await runConvoy(['doctor'], {
    TEMPORAL_ADDRESS: '127.0.0.1:1',
    TEMPORAL_API_KEY: 'doctor-secret-api-key',
    TEMPORAL_TLS: 'false',
  });
  expect(result.code).toBe(1);
  const { checks, fixes } = parseReport(result.stdout);
  expect(checks.get('connection')!.detail).toBe('127.0.0.1:1, namespace default (plaintext, API key set)');
  expect(checks.get('server')!.ok).toBe(false);
  expect(fixes).toEqual([expect.stringContaining('check TEMPORAL_ADDRESS')]);
  expect(result.stdout + result.stderr).not.toContain('doctor-secret-api-key');
});
