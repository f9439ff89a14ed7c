/**
 * Reading docker-compose.temporal.yml's setup scripts, so that the tests can hold them to the
 * local cluster (same search attributes) and run them for real against its server.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { packageRoot } from '../../../src/package/root';

export function composeFile(): string {
  return join(packageRoot(), 'docker-compose.temporal.yml');
}

/**
 * The shell script a one-shot service of the compose file runs (`entrypoint: [/bin/sh, -ec]`),
 * with compose's `$$` escapes turned back into the `$` the shell sees.
 */
export function composeScript(service: string, file = composeFile()): string {
  const compose = parse(readFileSync(file, 'utf8')) as {
    services: Record<string, { entrypoint?: string[]; command?: string[] }>;
  };
  const found = compose.services[service];
  if (!found?.command || found.entrypoint?.join(' ') !== '/bin/sh -ec')
    throw new Error(`${file}: service ${service} runs no /bin/sh -ec script`);
  return found.command.join('\n').replace(/\$\$/g, '$');
}

/** The `Name:Type` words of the setup script's `for attribute in ...; do` loop. */
export function composeSearchAttributes(script: string): Record<string, string> {
  const list = /for attribute in ([^;]+);/.exec(script)?.[1];
  if (!list) throw new Error('no `for attribute in ...;` loop in the setup script');
  return Object.fromEntries(
    list
      .trim()
      .split(/\s+/)
      .map((word) => word.split(':') as [string, string]),
  );
}
