// What `npm start`, `npm run agent` and the other commands run: the source under tsx in
// development, dist/<name>.mjs (scripts/build.mjs) in production.
export const ENTRIES = {
  server: 'server/src/main.ts',
  migrate: 'db/src/cli/migrate.ts',
  agent: 'hardware/src/agent/cli.ts',
  backup: 'db/src/cli/backup.ts',
  restore: 'db/src/cli/restore.ts',
};
