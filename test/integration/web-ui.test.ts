/**
 * Operators inspect pipelines in the Temporal Web UI. Headless Chromium opens a running
 * pipeline there and finds what Convoy puts on the page: each child's summary and the live
 * barrier details; it finds the pipeline in the list through Convoy's search attributes, and sees
 * a failed pipeline as Failed. (Chromium: Debian's `chromium` package, or CHROMIUM_PATH.)
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { cancelPipeline, describePipeline } from '../../src/client/pipelines';
import { connectTestEnv, eventually, startYamlPipeline, workflowOf, type TestEnv } from './harness';

const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
let env: TestEnv;
let browser: Browser;

beforeAll(async () => {
  if (!existsSync(executablePath)) {
    throw new Error(
      `Chromium not found at ${executablePath}: apt-get install -y chromium, or set CHROMIUM_PATH`,
    );
  }
  env = await connectTestEnv('web-ui');
  await env.startWorker();
  browser = await chromium.launch({
    executablePath,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
});
afterAll(async () => {
  await browser?.close();
  await env?.close();
});

/**
 * Opens the Web UI's workflow list filtered by a visibility query, as an operator types it, and
 * returns the text of the row of `workflowId` once it is listed (visibility lags: it reloads).
 */
async function listedRow(page: Page, query: string, workflowId: string): Promise<string> {
  const url = `${process.env.CONVOY_TEST_TEMPORAL_UI}/namespaces/default/workflows?query=${encodeURIComponent(query)}`;
  return eventually(
    async () => {
      await page.goto(url);
      const row = page.locator('tr', { has: page.getByText(workflowId, { exact: true }) }).first();
      try {
        await row.waitFor({ timeout: 10_000 });
        return await row.innerText();
      } catch {
        return ''; // not listed yet
      }
    },
    (text) => text !== '',
    60_000,
  );
}

test('a running pipeline shows its children and live barrier state in the Web UI', async () => {
  const started = await startYamlPipeline(
    env,
    `
name: web-ui
stages:
  - name: deploy
    workflows:
      - { name: payments, steps: [{ name: all-deployed, type: barrier, identifier: services-deployed }] }
      - { name: search, steps: [{ name: deploy, type: shell, command: "sleep 120" }, { name: all-deployed, type: barrier, identifier: services-deployed }] }
      - { name: ledger, steps: [{ name: deploy, type: shell, command: "sleep 120" }, { name: ledger-ready, type: barrier, identifier: ledger-migrated }] }
`,
  );
  await eventually(
    () => describePipeline(env.client, started.pipelineId),
    (doc) => workflowOf(doc, 'payments').status === 'waiting-at-barrier',
  );
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  try {
    await page.goto(
      `${process.env.CONVOY_TEST_TEMPORAL_UI}/namespaces/default/workflows/${encodeURIComponent(started.pipelineId)}`,
    );
    await page
      .getByText('Convoy workflow payments · stage deploy of pipeline web-ui')
      .first()
      .waitFor({ timeout: 30_000 });
    await page.getByText('User Metadata', { exact: true }).click();
    // The UI renders Markdown metadata in sandboxed iframes: read the text of every frame.
    const allText = async () =>
      (
        await Promise.all(
          page
            .frames()
            .map((f) => f.evaluate<string>('document.body ? document.body.innerText : ""').catch(() => '')),
        )
      ).join('\n');
    const shown = await eventually(
      allText, // Its Markdown renderer turns 1/2 into a fraction (U+2044).
      (text) => /1[/\u2044]2 arrived — waiting for search/.test(text),
    );
    expect(shown).toContain('Convoy pipeline web-ui');
    expect(shown).toMatch(/services-deployed\s*\(stage deploy\): standing/);

    // README's query, "every pipeline waiting at a barrier", finds it (its waiting child is
    // shown by it, not listed); a barrier nobody waits at yet finds nothing.
    const waiting = await listedRow(page, 'ConvoyStatus = "waiting-at-barrier"', started.pipelineId);
    expect(waiting).toMatch(/\brunning\b/i);
    await listedRow(page, 'ConvoyWaitingBarriers = "services-deployed"', started.pipelineId);
    await expect(page.getByText(`${started.pipelineId}/payments`, { exact: true }).count()).resolves.toBe(0);
    await page.goto(
      `${process.env.CONVOY_TEST_TEMPORAL_UI}/namespaces/default/workflows?query=${encodeURIComponent('ConvoyWaitingBarriers = "ledger-migrated"')}`,
    );
    await page
      .getByText(/No Workflows/i)
      .first()
      .waitFor({ timeout: 30_000 });
  } catch (error) {
    await page.screenshot({ path: '/tmp/web-ui-failure.png' });
    throw error;
  } finally {
    await page.close();
    await cancelPipeline(env.client, started.pipelineId);
    await started.result();
  }
});

test('a failed pipeline and its failed child show as Failed in the Web UI list', async () => {
  const started = await startYamlPipeline(
    env,
    `
name: web-ui-fails
stages:
  - name: deploy
    workflows:
      - { name: payments, steps: [{ name: deploy, type: shell, command: "exit 1" }] }
`,
  );
  const doc = await started.result();
  expect(doc.status).toBe('failed');
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  try {
    const pipelineRow = await listedRow(page, `ConvoyPipeline = "web-ui-fails"`, started.pipelineId);
    // The badge: its CSS shows it in capitals (the text is FAILED, COMPLETED, RUNNING).
    expect(pipelineRow).toMatch(/\bfailed\b/i);
    expect(pipelineRow).not.toMatch(/completed/i);
    const childRow = await listedRow(
      page,
      `ExecutionStatus = "Failed" AND ConvoyPipeline = "web-ui-fails"`,
      `${started.pipelineId}/payments`,
    );
    expect(childRow).toMatch(/\bfailed\b/i);
  } catch (error) {
    await page.screenshot({ path: '/tmp/web-ui-failed-list.png' });
    throw error;
  } finally {
    await page.close();
  }
});
