// npm run restore -- FILE [--latest]: restores a backup into an empty database: DATABASE_URL, or
// the embedded one in QMS_DATA_DIR (a new cluster when the folder is empty). The server must
// not be running on it. See docs/backup.md.
import path from 'node:path';
import { restoreDatabase } from '../backup.ts';
import { openDatabase, runningEmbedded } from '../open.ts';

const args = process.argv.slice(2);
const latest = args.includes('--latest');
const [file, ...rest] = args.filter((a) => a !== '--latest');
if (!file || rest.length || file.startsWith('-')) {
  console.error('usage: npm run restore -- FILE [--latest]   (--latest: then migrate to this release\'s schema; the server does it on start anyway)');
  process.exit(2);
}

if (!process.env.DATABASE_URL) {
  const running = await runningEmbedded();
  if (running) {
    console.error(`Restore refused: a server runs on ${running.describe.replace(/, run by the server\)$/, ')')} (PostgreSQL pid ${running.running!.pid}). Stop the server, move its data folder away, and restore into an empty one.`);
    process.exit(1);
  }
}
const opened = await openDatabase((line) => console.log(line));
try {
  const summary = await restoreDatabase(opened.url, file, { latest, log: (line) => console.log(line) });
  const rows = Object.values(summary.rows).reduce((a, b) => a + b, 0);
  console.log(`Restored ${path.resolve(file)} (taken ${summary.header.createdAt}) into ${opened.describe}: ${rows} rows, ${summary.ms} ms, schema ${summary.migrated.at(-1) ?? summary.header.migrations.at(-1) ?? 'empty'}`);
} catch (error) {
  console.error(`Restore failed: ${(error as Error).message}`);
  process.exitCode = 1;
} finally {
  await opened.embedded?.stop();
}
