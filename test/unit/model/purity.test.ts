/**
 * src/model runs inside the workflows, which Temporal replays: it must not read the clock, draw
 * random numbers, use timers, or import Node; the barrier machine must not even import Temporal.
 * A static check of the sources catches a slip long before a replay would. ESLint enforces the
 * import part too; this test also covers what lint cannot see (clock, randomness, timers).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, relative } from 'node:path';

const root = join(__dirname, '../../../src/model');

function sourcesUnder(dir: string): { file: string; text: string }[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourcesUnder(path);
    return entry.name.endsWith('.ts')
      ? [{ file: relative(root, path), text: readFileSync(path, 'utf8') }]
      : [];
  });
}

/** Module specifiers a source imports, requires or re-exports. */
function importsOf(text: string): string[] {
  const specifiers: string[] = [];
  const pattern = /(?:\bfrom\s*|\bimport\s*\(?\s*|\brequire\s*\(\s*)['"]([^'"]+)['"]/g;
  for (const match of text.matchAll(pattern)) specifiers.push(match[1]!);
  return specifiers;
}

const nodeModules = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));
const isNodeImport = (specifier: string) =>
  specifier.startsWith('node:') || nodeModules.has(specifier) || nodeModules.has(specifier.split('/')[0]!);

/** What is wrong with one source of src/model; empty when it is pure. */
export function impurities(file: string, text: string): string[] {
  const found: string[] = [];
  for (const specifier of importsOf(text)) {
    if (isNodeImport(specifier)) found.push(`imports ${specifier}`);
    else if (specifier.startsWith('@temporalio/') && specifier !== '@temporalio/workflow')
      found.push(`imports ${specifier}`);
    else if (specifier.startsWith('@temporalio/') && file.startsWith('barrier'))
      found.push(`imports ${specifier} (the barrier machine imports no Temporal at all)`);
  }
  const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
  const checks: [string, RegExp][] = [
    ['reads the clock (Date.now())', /\bDate\.now\s*\(/],
    ['reads the clock (new Date())', /\bnew\s+Date\s*\(\s*\)/],
    ['draws random numbers', /\bMath\.random\s*\(/],
    ['uses timers', /\b(setTimeout|setInterval|setImmediate)\s*\(/],
    ['uses require()', /\brequire\s*\(/],
    ['uses process', /\bprocess\./],
  ];
  for (const [what, pattern] of checks) if (pattern.test(code)) found.push(what);
  return found;
}

const sources = sourcesUnder(root);

describe('src/model purity', () => {
  it('has the model sources to check', () => {
    expect(sources.map((s) => s.file)).toEqual(
      expect.arrayContaining([
        'barrier/barrier.ts',
        'barrier/book.ts',
        'plan.ts',
        'result.ts',
        'failure-policy.ts',
        'pipeline-run.ts',
        'protocol.ts',
      ]),
    );
  });

  it.each(sources.map((s) => [s.file, s.text]))('%s is pure', (file, text) => {
    expect(impurities(file, text)).toEqual([]);
  });

  it('catches each kind of slip (the check itself can fail)', () => {
    expect(impurities('plan.ts', "import { readFileSync } from 'node:fs';")).toEqual(['imports node:fs']);
    expect(impurities('plan.ts', "import * as fs from 'fs';")).toEqual(['imports fs']);
    expect(impurities('plan.ts', "export { join } from 'node:path';")).toEqual(['imports node:path']);
    expect(impurities('plan.ts', "const cp = require('child_process');")).toEqual([
      'imports child_process',
      'uses require()',
    ]);
    expect(impurities('plan.ts', "import { Client } from '@temporalio/client';")).toEqual([
      'imports @temporalio/client',
    ]);
    expect(impurities('barrier/book.ts', "import { sleep } from '@temporalio/workflow';")).toHaveLength(1);
    expect(impurities('protocol.ts', "import { defineSignal } from '@temporalio/workflow';")).toEqual([]);
    expect(impurities('plan.ts', 'const t = Date.now();')).toEqual(['reads the clock (Date.now())']);
    expect(impurities('plan.ts', 'const t = new Date();')).toEqual(['reads the clock (new Date())']);
    expect(impurities('result.ts', 'const s = new Date(epochMs).toISOString();')).toEqual([]);
    expect(impurities('plan.ts', 'const r = Math.random();')).toEqual(['draws random numbers']);
    expect(impurities('plan.ts', 'setTimeout(f, 1);')).toEqual(['uses timers']);
    expect(impurities('plan.ts', '// Date.now() is never called here')).toEqual([]);
  });
});
