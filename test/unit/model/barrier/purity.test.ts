/**
 * The barrier machine runs inside the pipeline workflow, which Temporal replays: it must not
 * read the clock, draw random numbers, or import Temporal or Node. A static check of the sources
 * catches a slip long before a replay would.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = join(__dirname, '../../../../src/model/barrier');
const sources = readdirSync(dir)
  .filter((f) => f.endsWith('.ts'))
  .map((f) => ({ file: f, text: readFileSync(join(dir, f), 'utf8') }));

describe('src/model/barrier purity', () => {
  it('has sources to check', () => {
    expect(sources.map((s) => s.file)).toEqual(expect.arrayContaining(['barrier.ts', 'book.ts', 'index.ts']));
  });

  it.each([
    ['Date.now()', /\bDate\.now\s*\(/],
    ['new Date(', /\bnew\s+Date\s*\(/],
    ['Math.random()', /\bMath\.random\s*\(/],
    ['a Temporal import', /from\s+['"]@temporalio\//],
    ['a Node import', /from\s+['"](node:|fs|path|os|crypto|util|events)['"/]/],
    ['require()', /\brequire\s*\(/],
    ['timers', /\b(setTimeout|setInterval|setImmediate)\s*\(/],
  ])('uses no %s', (_what, pattern) => {
    for (const { file, text } of sources)
      expect({ file, found: pattern.test(text) }).toEqual({ file, found: false });
  });
});
