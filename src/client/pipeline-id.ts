/** Pipeline IDs the client makes up when the caller gives none. */
import { randomBytes } from 'node:crypto';

/** A readable, unique pipeline ID: `<name>-<utc timestamp>-<random>`. */
export function generatePipelineId(name: string, now = new Date()): string {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z')
    .replace('T', '-');
  return `${name}-${stamp}-${randomBytes(3).toString('hex')}`;
}
