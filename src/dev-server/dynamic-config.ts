/**
 * The Temporal dynamic config Convoy ships (`config/temporal/dynamic-config.yaml`): read once,
 * validated, and turned into the dev server's `--dynamic-config-value` flags. The same file is
 * what docker-compose and real clusters are told to use, so every server Convoy starts behaves
 * alike.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';
import { packageRoot } from '../package/root';

/** Where the shipped dynamic config lives. */
export function dynamicConfigFile(): string {
  return join(packageRoot(), 'config', 'temporal', 'dynamic-config.yaml');
}

/** Temporal's dynamic config file format: key → values, each with optional constraints. */
const dynamicConfigFileSchema = z.record(
  z.string().regex(/^[a-z][A-Za-z0-9]*(\.[A-Za-z0-9]+)+$/, {
    error: 'expected a dynamic config key such as history.x',
  }),
  z
    .array(
      z.strictObject({
        value: z.union([z.string(), z.number(), z.boolean()]),
        constraints: z.record(z.string(), z.unknown()).optional(),
      }),
    )
    .length(1, 'Convoy ships exactly one global value per key'),
);

/** Key → value: the settings without constraints. */
export type DynamicConfig = Readonly<Record<string, string | number | boolean>>;

/** Reads and validates a dynamic config file; throws naming the file and the key. */
export function readDynamicConfig(file = dynamicConfigFile()): DynamicConfig {
  const parsed = dynamicConfigFileSchema.safeParse(parse(readFileSync(file, 'utf8')));
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    // zod reports a bad record key as "Invalid key in record" with the reason one level down.
    const message =
      issue.code === 'invalid_key' ? (issue.issues[0]?.message ?? issue.message) : issue.message;
    throw new Error(`${file}: ${issue.path.join('.') || '(file)'}: ${message}`);
  }
  return Object.fromEntries(Object.entries(parsed.data).map(([key, [entry]]) => [key, entry!.value]));
}

/** The dev server's flags for `config`: `--dynamic-config-value KEY=<JSON value>` each. */
export function dynamicConfigArgs(config: DynamicConfig): string[] {
  return Object.entries(config).flatMap(([key, value]) => [
    '--dynamic-config-value',
    `${key}=${JSON.stringify(value)}`,
  ]);
}
