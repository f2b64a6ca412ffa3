import { defineConfig } from 'vitest/config';

// Two groups, one after the other: everything but the browser tests, two files at a time (most
// wait on PostgreSQL, sockets and child processes rather than the CPU), then the Chromium tests
// one at a time (their timings, a call on screen within a second, need the machine to
// themselves).
export default defineConfig({
  test: {
    globalSetup: ['./vitest.global-setup.ts'],
    exclude: ['**/node_modules/**', 'bench/**'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['*/test/**/*.test.ts', '*/src/**/*.test.ts'],
          exclude: ['**/node_modules/**', 'bench/**', 'e2e/**'],
          maxWorkers: 2,
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: {
          name: 'e2e',
          include: ['e2e/test/**/*.test.ts'],
          maxWorkers: 1,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
