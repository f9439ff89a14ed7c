/** The HTML report: one file, nothing fetched, every mark of the timeline with its tooltip. */
import { escapeXml, renderReportHtml } from '../../../src/cli/report-html';
import { buildTimeline } from '../../../src/cli/timeline';
import { T0, midRun } from './fixtures';

const html = () => renderReportHtml(buildTimeline(midRun(), T0 + 10_000), '2026-01-01T12:00:10.000Z');
const count = (text: string, pattern: RegExp) => (text.match(pattern) ?? []).length;

test('self-contained: no script, no stylesheet or image fetched, no external URL but the SVG namespace', () => {
  const page = html();
  expect(page).toMatch(/^<!DOCTYPE html>/);
  expect(page).not.toMatch(/<script|<link|<img|@import|url\(/i);
  expect(page.match(/https?:\/\/[^"\s]+/g)).toEqual(['http://www.w3.org/2000/svg']);
});

test('a row per workflow, a bar per step coloured by outcome, arrivals and resolved barriers', () => {
  const page = html();
  expect(count(page, /<g class="row" /g)).toBe(4);
  expect(count(page, /<rect class="step /g)).toBe(4);
  expect(page).toMatch(
    /<rect class="step step-failed" data-step="migrate" data-status="failed"[^>]* fill="#c62828"/,
  );
  expect(page).toMatch(/<rect class="step step-succeeded" data-step="deploy"[^>]* fill="#2e7d32"/);
  expect(count(page, /<polygon class="arrival" /g)).toBe(3);
  expect(count(page, /<g class="barrier /g)).toBe(1); // the standing one has no moment yet
  expect(page).toContain('data-barrier="deploy/db-ready" data-status="crossed"');
  expect(page).toContain('Still standing: deploy/all-deployed');
  expect(page).toContain('<ul class="legend">');
});

test('tooltips tell what each mark is', () => {
  const page = html();
  expect(page).toContain(
    '<title>step migrate (shell): failed\nfrom +50ms for 3s\nstep-failed: exit code 1\nmore</title>',
  );
  expect(page).toContain(
    '<title>step deploy (shell): running (still going)\nfrom +100ms for 9.9s\n2 attempts</title>',
  );
  expect(page).toContain('<title>payments arrived at barrier deploy/all-deployed at +2s</title>');
  expect(page).toContain(
    '<title>barrier deploy/db-ready: crossed at +1.5s\nparticipants: payments, orders[eu]</title>',
  );
});

test('names from the pipeline file cannot become markup', () => {
  const doc = midRun();
  doc.workflows[0]!.name = '<img src=x onerror=alert(1)>';
  doc.name = '"quoted" & <b>';
  const page = renderReportHtml(buildTimeline(doc, T0 + 10_000), 'now');
  expect(page).not.toContain('<img');
  expect(page).not.toContain('<b>');
  expect(escapeXml(`<a href="x">'&'</a>`)).toBe('&#60;a href=&#34;x&#34;&#62;&#39;&#38;&#39;&#60;/a&#62;');
});
