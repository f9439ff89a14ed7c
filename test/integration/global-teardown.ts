/** Stops the dev server global-setup.ts started, whatever the tests did. */
export default async function globalTeardown(): Promise<void> {
  await globalThis.__CONVOY_DEV_SERVER__?.stop();
}
