/**
 * `convoy report ID --html FILE` as users run it: a real pipeline on the dev server (a barrier
 * crossed, then one broken by a failing step), the report written by the `convoy` process, and
 * headless Chromium rendering the file with every request outside it refused.
 * (Chromium: Debian's `chromium` package, or CHROMIUM_PATH.)
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { connectTestEnv, runConvoy, type TestEnv } from './harness';

/** The browser's, in the functions that run in the page (the project compiles without the DOM lib). */
declare function getComputedStyle(element: unknown): { fill: string; stroke: string };

const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const dir = mkdtempSync(join(tmpdir(), 'convoy-report-'));
let env: TestEnv;
let browser: Browser;
let serverEnv: NodeJS.ProcessEnv;

beforeAll(async () => {
  if (!existsSync(executablePath)) {
    throw new Error(
      `Chromium not found at ${executablePath}: apt-get install -y chromium, or set CHROMIUM_PATH`,
    );
  }
  env = await connectTestEnv('report');
  await env.startWorker();
  serverEnv = {
    TEMPORAL_ADDRESS: process.env.CONVOY_TEST_TEMPORAL_ADDRESS!,
    TEMPORAL_TASK_QUEUE: env.taskQueue,
  };
  browser = await chromium.launch({
    executablePath,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'],
  });
});
afterAll(async () => {
  await browser?.close();
  await env?.close();
});

const pipeline = `
name: report
stages:
  - name: deploy
    workflows:
      - name: api
        steps:
          - { name: deploy, type: shell, command: "echo api" }
          - { name: deployed, type: barrier, identifier: services-deployed }
          - { name: verified, type: barrier, identifier: services-verified }
      - name: web
        steps:
          - { name: deploy, type: shell, command: "sleep 0.5; echo web" }
          - { name: deployed, type: barrier, identifier: services-deployed }
          - { name: verify, type: shell, command: "echo verification failed >&2; exit 3" }
          - { name: verified, type: barrier, identifier: services-verified }
`;

test('the report of a failed pipeline: a row per workflow, steps as bars, arrivals, barrier lines, failures in red', async () => {
  const yaml = join(dir, 'report.yaml');
  writeFileSync(yaml, pipeline);
  const id = `report-${process.pid}`;
  const run = await runConvoy(['run', yaml, '--id', id, '--json'], serverEnv);
  expect(run.code).toBe(1);

  const html = join(dir, 'report.html');
  const written = await runConvoy(['report', id, '--html', html], serverEnv);
  expect(written).toMatchObject({
    code: 0,
    stdout: `report of pipeline ${id} (failed) written to ${html}\n`,
  });
  expect(readFileSync(html, 'utf8')).toMatch(/^<!DOCTYPE html>/);

  const page = await browser.newPage({ viewport: { width: 1300, height: 900 } });
  const requested: string[] = [];
  await page.route('**/*', (route) => {
    requested.push(route.request().url());
    return route.request().url().startsWith('file:') ? route.continue() : route.abort();
  });
  try {
    await page.goto(pathToFileURL(html).href);
    expect(requested).toEqual([pathToFileURL(html).href]); // self-contained: nothing else fetched

    const rows = page.locator('svg.timeline g.row');
    expect(await rows.count()).toBe(2);
    expect(await rows.evaluateAll((gs) => gs.map((g) => g.getAttribute('data-workflow')))).toEqual([
      'api',
      'web',
    ]);

    // Bars: api ran deploy and two barrier steps (the second failed: broken); web ran deploy,
    // its barrier step and verify (failed), and never reached its second barrier.
    const bars = (workflow: string) => page.locator(`g.row[data-workflow="${workflow}"] rect.step`);
    expect(
      await bars('api').evaluateAll((rs) => rs.map((r) => `${r.dataset.step}:${r.dataset.status}`)),
    ).toEqual(['deploy:succeeded', 'deployed:succeeded', 'verified:failed']);
    expect(
      await bars('web').evaluateAll((rs) => rs.map((r) => `${r.dataset.step}:${r.dataset.status}`)),
    ).toEqual(['deploy:succeeded', 'deployed:succeeded', 'verify:failed']);
    for (const bar of await page.locator('rect.step').all()) {
      await expect(bar.isVisible()).resolves.toBe(true);
      const box = await bar.boundingBox();
      expect(box!.width).toBeGreaterThanOrEqual(3);
      expect(box!.height).toBeGreaterThan(10);
    }
    const failedFill = await page
      .locator('g.row[data-workflow="web"] rect.step[data-step="verify"]')
      .evaluate((r) => getComputedStyle(r).fill);
    expect(failedFill).toBe('rgb(198, 40, 40)'); // red
    const succeededFill = await bars('web')
      .first()
      .evaluate((r) => getComputedStyle(r).fill);
    expect(succeededFill).toBe('rgb(46, 125, 50)'); // green

    // Arrivals: both at services-deployed, api alone at services-verified.
    const arrivals = page.locator('polygon.arrival');
    expect(await arrivals.count()).toBe(3);
    for (const arrival of await arrivals.all()) expect(await arrival.isVisible()).toBe(true);

    // Each barrier a vertical line where it resolved: crossed (green), then broken (red), later.
    const lines = page.locator('g.barrier');
    expect(
      await lines.evaluateAll((gs) => gs.map((g) => `${g.dataset.barrier}:${g.dataset.status}`)),
    ).toEqual(['deploy/services-deployed:crossed', 'deploy/services-verified:broken']);
    const geometry = await page.locator('g.barrier line').evaluateAll((ls) =>
      ls.map((l) => {
        const box = l.getBoundingClientRect();
        return { left: box.left, height: box.height, width: box.width, stroke: getComputedStyle(l).stroke };
      }),
    );
    expect(geometry[0]!.height).toBeGreaterThan(2 * 34); // spans both rows
    expect(geometry[0]!.width).toBeLessThan(4); // vertical
    expect(geometry[1]!.left).toBeGreaterThan(geometry[0]!.left);
    expect(geometry.map((g) => g.stroke)).toEqual(['rgb(46, 125, 50)', 'rgb(198, 40, 40)']);

    // Tooltips and the legend.
    expect(
      await page.locator('g.row[data-workflow="web"] rect.step[data-step="verify"] > title').textContent(),
    ).toMatch(/^step verify \(shell\): failed\nfrom \+[\d.]+m?s for [\d.]+m?s\nstep-failed: .*exit code 3/);
    expect(await page.locator('g.barrier[data-status="broken"] > title').textContent()).toMatch(
      /^barrier deploy\/services-verified: broken at \+[\d.]+m?s \(web: /,
    );
    const legend = await page.locator('ul.legend').innerText();
    for (const entry of [
      'step failed',
      'step succeeded',
      'arrival at a barrier',
      'barrier crossed',
      'barrier broken',
    ])
      expect(legend).toContain(entry);
    expect(await page.locator('h1').innerText()).toBe(`Convoy pipeline ${id} (report)`);
  } finally {
    await page.close();
  }
});

test('report: an unknown pipeline is exit 2, nothing written', async () => {
  const html = join(dir, 'none.html');
  const result = await runConvoy(['report', 'no-such-pipeline', '--html', html], serverEnv);
  expect(result.code).toBe(2);
  expect(result.stderr).toContain('no pipeline with id no-such-pipeline');
  expect(existsSync(html)).toBe(false);
});
