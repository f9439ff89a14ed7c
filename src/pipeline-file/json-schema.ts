/**
 * The pipeline file format as a JSON Schema, generated from the zod schema (schema.ts) with
 * zod's `toJSONSchema`. The package ships it as `schema/pipeline.schema.json`, for editors:
 * `# yaml-language-server: $schema=…` at the top of a pipeline file gives completion, hovers and
 * squiggles while typing.
 *
 * It describes each field's shape (types, unknown fields, names, ranges). The rules that compare
 * fields (duplicate names, barrier order, variables) are `convoy validate`'s alone.
 *
 * `node dist/src/pipeline-file/json-schema.js FILE` writes it (`npm run schema`).
 */
import { writeFileSync } from 'node:fs';
import { z } from 'zod';
import { pipelineFileSchema } from './schema';

/** Draft 7: the version the YAML language server and most editors support fully. */
const TARGET = 'draft-07';

/** The JSON Schema of a pipeline file (what a user writes: defaults may be left out). */
export function pipelineJsonSchema(): Record<string, unknown> {
  const generated = z.toJSONSchema(pipelineFileSchema, { target: TARGET, io: 'input' });
  const { $schema, ...rest } = generated;
  return {
    $schema,
    title: 'Convoy pipeline',
    description:
      'A Convoy pipeline file (docs/SPEC.md, section 1). `convoy validate` checks the rules that compare fields as well.',
    ...rest,
  };
}

/** The schema as the file holds it: two-space JSON and a final newline. */
export function pipelineJsonSchemaText(): string {
  return `${JSON.stringify(pipelineJsonSchema(), null, 2)}\n`;
}

if (require.main === module) {
  const file = process.argv[2];
  if (!file) {
    process.stderr.write('usage: node dist/src/pipeline-file/json-schema.js FILE\n');
    process.exit(2);
  }
  writeFileSync(file, pipelineJsonSchemaText());
  process.stdout.write(`pipeline JSON Schema written to ${file}\n`);
}
