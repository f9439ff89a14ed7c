/** @type {import('jest').Config} */
// tsconfig sets isolatedModules, so ts-jest transpiles file by file (fast); `npm run typecheck` checks types.
const tsJest = ['ts-jest', { tsconfig: 'tsconfig.json' }];
module.exports = {
  // Two cores: one jest worker per core; integration files share one dev server (globalSetup).
  maxWorkers: 2,
  // Integration tests run real pipelines on a real server; unit tests finish far sooner.
  testTimeout: 120000,
  // A failed Worker.create can leave a native handle open; CI must end rather than hang.
  forceExit: true,
  projects: [
    {
      displayName: 'unit',
      testEnvironment: 'node',
      transform: { '^.+\\.ts$': tsJest },
      testMatch: ['<rootDir>/test/unit/**/*.test.ts'],
    },
    {
      displayName: 'integration',
      testEnvironment: 'node',
      transform: { '^.+\\.ts$': tsJest },
      testMatch: ['<rootDir>/test/integration/**/*.test.ts'],
      globalSetup: '<rootDir>/test/integration/global-setup.ts',
      globalTeardown: '<rootDir>/test/integration/global-teardown.ts',
    },
    {
      // Convoy on a full Temporal service: PostgreSQL and two server nodes built from source.
      displayName: 'cluster',
      testEnvironment: 'node',
      transform: { '^.+\\.ts$': tsJest },
      testMatch: ['<rootDir>/test/cluster/**/*.test.ts'],
      globalSetup: '<rootDir>/test/cluster/global-setup.ts',
      globalTeardown: '<rootDir>/test/cluster/global-teardown.ts',
    },
  ],
};
