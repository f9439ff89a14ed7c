/** The benchmark's shell-step memory: a real step process group, as the shell activity starts it. */
import { measureStepMemory } from '../../../bench/step-memory';

test("a step's group is its sh, the watchdog and the command; private memory is a part of the RSS", async () => {
  const measured = await measureStepMemory('sleep 30', 300);
  expect(measured.command).toBe('sleep 30');
  // /bin/sh -c (exec'd from the supervisor script), the watchdog's sh, sleep.
  expect(measured.processes).toBe(3);
  expect(measured.rssMb).toBeGreaterThan(0);
  expect(measured.privateMb).toBeGreaterThan(0);
  expect(measured.privateMb).toBeLessThan(measured.rssMb);
});

test('more processes, more memory: a pipe of three commands counts each', async () => {
  const one = await measureStepMemory('sleep 30', 300);
  const pipe = await measureStepMemory('sleep 30 | cat | cat', 300);
  expect(pipe.processes).toBeGreaterThan(one.processes);
  expect(pipe.rssMb).toBeGreaterThan(one.rssMb);
});
