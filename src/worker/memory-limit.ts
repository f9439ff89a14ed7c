/**
 * The memory limit a worker runs under: the container's (cgroup) limit when there is one, else
 * the host's memory. Read from the same files as the image's entry point reads for V8's heap
 * (workers/entrypoint.sh), so the heap and the cache are sized for the same limit.
 */
import { readFileSync } from 'node:fs';
import { totalmem } from 'node:os';
import { join } from 'node:path';

/** Where cgroup files are mounted in a container (`CONVOY_CGROUP_ROOT` moves it, for tests). */
export const DEFAULT_CGROUP_ROOT = '/sys/fs/cgroup';

/** The memory-limit files, relative to the cgroup root, in the order they are tried. */
export const CGROUP_MEMORY_FILES = [
  { version: 'v2', file: 'memory.max' },
  { version: 'v1', file: join('memory', 'memory.limit_in_bytes') },
] as const;

/** The limit found, and where. */
export interface MemoryLimit {
  readonly bytes: number;
  /** `cgroup v2 /sys/fs/cgroup/memory.max`, `host memory, no limit in …`, ... */
  readonly source: string;
}

/** Raised for a cgroup file that holds neither a byte count nor `max`; the message names the file. */
export class MemoryLimitError extends Error {
  override readonly name = 'MemoryLimitError';
}

/**
 * The container's memory limit under `cgroupRoot`, or the host's memory when none applies: no
 * file, `max` (v2), or a value at or above the host's memory (v1 says "unlimited" with a number
 * near 2^63).
 * @throws {@link MemoryLimitError} for a file that is neither a number nor `max`.
 */
export function readMemoryLimit(
  cgroupRoot: string = DEFAULT_CGROUP_ROOT,
  hostBytes: number = totalmem(),
): MemoryLimit {
  const host = (why: string) => ({ bytes: hostBytes, source: `host memory, ${why}` });
  for (const { version, file } of CGROUP_MEMORY_FILES) {
    const path = join(cgroupRoot, file);
    let text: string;
    try {
      text = readFileSync(path, 'utf8').trim();
    } catch (error) {
      if (isMissing(error)) continue;
      throw new MemoryLimitError(`${path}: cannot read the memory limit (${describe(error)})`, {
        cause: error,
      });
    }
    if (text === 'max') return host(`no limit in ${path}`);
    if (!/^[0-9]+$/.test(text)) {
      throw new MemoryLimitError(`${path}: expected a byte count or "max", got ${JSON.stringify(text)}`);
    }
    const bytes = Number(text);
    if (bytes >= hostBytes) return host(`the limit in ${path} is above it`);
    return { bytes, source: `cgroup ${version} ${path}` };
  }
  return host(`no cgroup memory limit under ${cgroupRoot}`);
}

function isMissing(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
