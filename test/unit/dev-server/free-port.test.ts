import { createServer } from 'node:net';
import { freePort } from '../../../src/dev-server/dev-server';

async function bindAndRelease(port: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => server.close(() => resolve()));
  });
}

describe('freePort', () => {
  // Linux hands a just-closed port to the next bind(:0) often enough that a few hundred plain
  // draws repeat one (a CI run lost a dev server that way): the ports handed out must not repeat.
  test('hands out no port twice in 300 draws', async () => {
    const ports: number[] = [];
    for (let i = 0; i < 300; i++) ports.push(await freePort());
    expect(new Set(ports).size).toBe(ports.length);
  });

  test('a port it hands out can still be bound explicitly', async () => {
    for (let i = 0; i < 20; i++) await expect(bindAndRelease(await freePort())).resolves.toBeUndefined();
  });
});
