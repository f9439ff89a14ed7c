/** Stops the PostgreSQL instance global-setup.ts started and removes its temporary folder. */
import { rmSync } from 'node:fs';

export default async function globalTeardown(): Promise<void> {
  await globalThis.__CONVOY_CLUSTER_POSTGRES__?.stop();
  const stateDir = process.env.CONVOY_CLUSTER_STATE_DIR;
  if (stateDir) rmSync(stateDir, { recursive: true, force: true });
}
