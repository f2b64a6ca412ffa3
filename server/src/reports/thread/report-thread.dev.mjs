// The report thread's entry from the sources (npm start in development, tests, benchmarks): its
// TypeScript through tsx, as scripts/run.mjs runs the server's. A worker does not inherit the
// loader hooks its parent registered; `npm run build` bundles report-thread.ts as
// dist/report-thread.mjs instead (report-worker.ts picks one or the other).
const { register } = await import('tsx/esm/api');
register();
await import('./report-thread.ts');
