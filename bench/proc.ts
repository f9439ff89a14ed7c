/** Process facts from Linux's /proc, for the worker's peak memory. */
import { readFileSync } from 'node:fs';

/**
 * A `kB` field of /proc/<pid>/status (`VmHWM` is the peak resident set size, `VmRSS` the
 * current one), in MiB; undefined when absent.
 */
export function parseStatusFieldMb(statusText: string, field: 'VmHWM' | 'VmRSS'): number | undefined {
  const line = statusText.split('\n').find((l) => l.startsWith(`${field}:`));
  const match = line?.match(/^\w+:\s+(\d+)\s+kB/);
  return match ? Number(match[1]) / 1024 : undefined;
}

/** Peak RSS of a live process in MiB (undefined off Linux or when the process is gone). */
export function peakRssMb(pid: number | 'self'): number | undefined {
  try {
    return parseStatusFieldMb(readFileSync(`/proc/${pid}/status`, 'utf8'), 'VmHWM');
  } catch {
    return undefined;
  }
}
