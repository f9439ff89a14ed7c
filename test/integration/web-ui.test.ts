/**
 * Operators inspect pipelines in the Temporal Web UI. Headless Chromium opens a running
 * pipeline there and finds what Convoy puts on the page: each child's summary and the live
 * barrier details. (Chromium: Debian's `chromium` package, or CHROMIUM_PATH.)
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
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
  } catch (error) {
    await page.screenshot({ path: '/tmp/web-ui-failure.png' });
    throw error;
  } finally {
    await page.close();
    await cancelPipeline(env.client, started.pipelineId);
    await started.result();
  }
});
