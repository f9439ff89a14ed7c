/** Process facts from Linux's /proc, for the worker's peak memory. */
import { readFileSync } from 'node:fs';

/**
 * A `kB` field of /proc/<pid>/status (`VmHWM` is the peak resident set size, `VmRSS` the
 * current one, `RssAnon` its private part: a container is charged for each process's private
 * pages, and for file pages once), in MiB; undefined when absent.
 */
export function parseStatusFieldMb(
  statusText: string,
  field: 'VmHWM' | 'VmRSS' | 'RssAnon',
): number | undefined {
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

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ: 100 on Linux everywhere it matters). */
export const CLOCK_TICKS_PER_SECOND = 100;

/**
 * CPU seconds (user + system) a process used so far, from the text of /proc/<pid>/stat. The
 * command name (field 2) may contain spaces and parentheses, so fields are counted after its
 * closing parenthesis: utime and stime are fields 14 and 15.
 */
export function parseCpuSeconds(statText: string): number | undefined {
  const end = statText.lastIndexOf(')');
  if (end < 0) return undefined;
  const fields = statText
    .slice(end + 2)
    .trim()
    .split(/\s+/);
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) return undefined;
  return (utime + stime) / CLOCK_TICKS_PER_SECOND;
}

/** CPU seconds used so far by a live process (undefined off Linux or when it is gone). */
export function cpuSeconds(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    return parseCpuSeconds(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return undefined;
  }
}
