import { defineConfig } from 'vitest/config';

// Two groups, one after the other: everything but the browser tests, two files at a time (most
// wait on PostgreSQL, sockets and child processes rather than the CPU), then the Chromium tests
// one at a time (their timings, a call on screen within a second, need the machine to
// themselves). The wall display's test is the exception: it spends most of its 2.5 minutes
// listening to announcements play in real time, so it takes one of the first group's two places
// (its calls still reach the screen in about 0.4 s there) rather than holding up the second group.
const VOICE = 'e2e/test/display.e2e.test.ts';

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
          name: 'e2e-voice',
          include: [VOICE],
          maxWorkers: 2,
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: {
          name: 'e2e',
          include: ['e2e/test/**/*.test.ts'],
          exclude: ['**/node_modules/**', VOICE],
          maxWorkers: 1,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
