/**
 * `npm run provision-temporal`: finds or provisions the Temporal CLI ahead of time (CI does this
 * before the tests) and prints which binary and version it will use.
 */
import { resolveTemporalCli } from './temporal-cli';

resolveTemporalCli({ log: (line) => process.stdout.write(`${line}\n`) }).then(
  (cli) => process.stdout.write(`Temporal CLI ready: ${cli.path} — ${cli.version} (source: ${cli.source})\n`),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(3);
  },
);
