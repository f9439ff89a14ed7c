/**
 * The worker's one logger: the SDK runtime (Rust core and Node side) and Convoy's own lines go
 * through it, as human-readable lines or, with `CONVOY_LOG_FORMAT=json`, one JSON object per line
 * for a log pipeline (Kubernetes, Loki, ...).
 */
import { DefaultLogger, type LogEntry, type Logger } from '@temporalio/worker';
import type { LogFormat } from './settings';

/** One log entry as a JSON line: `time`, `level`, `message`, then the entry's metadata. */
export function jsonLogLine(entry: LogEntry): string {
  const time = new Date(Number(entry.timestampNanos / 1_000_000n)).toISOString();
  return `${JSON.stringify({ ...entry.meta, time, level: entry.level, message: entry.message }, jsonSafe)}\n`;
}

/** Metadata may hold what JSON cannot say as is: bigints, errors. */
function jsonSafe(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Error) return { name: value.name, message: value.message, stack: value.stack };
  return value;
}

/** A logger writing to `write` (default stderr) in `format`, at INFO and above. */
export function createWorkerLogger(
  format: LogFormat,
  write: (text: string) => void = (text) => process.stderr.write(text),
): Logger {
  if (format === 'json') return new DefaultLogger('INFO', (entry) => write(jsonLogLine(entry)));
  return new DefaultLogger('INFO', ({ level, message, meta }) =>
    write(`[${level}] ${message}${meta === undefined ? '' : ` ${JSON.stringify(meta, jsonSafe)}`}\n`),
  );
}
