/**
 * README as a new user reads it on a fresh clone: its Quick start names every program `npm test`
 * needs besides Node.js (each taken from the test that needs it, so a new requirement fails here
 * until README names it), and every link to a file of the repository leads to one.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as api from '../../src/index';

const repo = join(__dirname, '..', '..');
const readme = readFileSync(join(repo, 'README.md'), 'utf8');

/** The text of README's `## title` section, up to the next `## `. */
function section(title: string): string {
  const start = readme.indexOf(`\n## ${title}\n`);
  if (start < 0) throw new Error(`README has no section "${title}"`);
  const end = readme.indexOf('\n## ', start + 1);
  return readme.slice(start, end < 0 ? undefined : end);
}

/** What a test needs (as its source spells it) and what README's Quick start must call it. */
const requirements: { test: string; needs: string; named: RegExp }[] = [
  { test: 'test/integration/web-ui.test.ts', needs: '/usr/bin/chromium', named: /Chromium[^]*CHROMIUM_PATH/ },
  { test: 'test/integration/report.test.ts', needs: '/usr/bin/chromium', named: /Chromium/ },
  { test: 'test/integration/cli-progress.test.ts', needs: "'/usr/bin/script'", named: /`script`/ },
  { test: 'test/integration/compose.test.ts', needs: "('docker-compose'", named: /`docker-compose`/ },
  { test: 'test/cluster/support/postgres.ts', needs: 'postgresql', named: /PostgreSQL[^]*`postgresql`/ },
  { test: 'test/cluster/support/temporal-server.ts', needs: 'Go 1.21', named: /Go\*\* 1\.21 or later/ },
];

test('Quick start names every program `npm test` needs, as the tests that need it spell it', () => {
  const quickStart = section('Quick start');
  expect(quickStart).toContain('npm test');
  for (const { test: file, needs, named } of requirements) {
    expect({ file, needs: readFileSync(join(repo, file), 'utf8').includes(needs) }).toEqual({
      file,
      needs: true,
    });
    expect({ file, named: named.test(quickStart) }).toEqual({ file, named: true });
  }
});

test('every link from README to a file of the repository leads to one (the SPEC among them)', () => {
  const links = [...readme.matchAll(/\]\(((?!https?:|#)[^)\s]+)\)/g)].map((m) => m[1]!.split('#')[0]!);
  expect(links).toContain('docs/SPEC.md');
  expect(links.filter((link) => !existsSync(join(repo, link)))).toEqual([]);
});

test('"Start pipelines from your code" names every error class the package exports', () => {
  const library = section('Start pipelines from your code');
  const errorClasses = Object.entries(api)
    .filter(([, value]) => typeof value === 'function' && value.prototype instanceof Error)
    .map(([name]) => name);
  expect(errorClasses.length).toBeGreaterThan(5);
  expect(errorClasses.filter((name) => !library.includes(`\`${name}\``))).toEqual([]);
});
