/** The local cluster's port choice: each node's nine ports are its own. */
import { freeNodePorts } from '../../cluster/support/cluster';

it('never gives a node a port already given to another node', async () => {
  // Leave exactly nine ports of the range untaken: those must be the answer, whatever is drawn.
  const left = [20_001, 21_234, 22_345, 23_456, 24_567, 25_678, 26_789, 27_890, 28_901];
  const taken = new Set<number>();
  for (let port = 20_000; port < 32_000; port++) if (!left.includes(port)) taken.add(port);
  const ports = Object.values(await freeNodePorts(taken)).sort((a, b) => a - b);
  expect(ports).toEqual(left);
});
