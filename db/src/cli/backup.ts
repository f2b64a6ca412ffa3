// npm run backup -- FILE: a consistent copy of the database (DATABASE_URL, or the embedded one,
// also while the server runs), without pg_dump. FILE may be a folder: a name with the time is
// chosen in it. See docs/backup.md.
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { BACKUP_EXTENSION, backupDatabase, formatBytes, timestampForFile } from '../backup.ts';
import { openDatabaseBeside } from '../open.ts';

const [target] = process.argv.slice(2);
if (!target || target.startsWith('-')) {
  console.error(`usage: npm run backup -- FILE (or a folder, to write qms-<time>${BACKUP_EXTENSION} in it)`);
  process.exit(2);
}
const file = existsSync(target) && statSync(target).isDirectory() ? path.join(target, `qms-${timestampForFile(new Date())}${BACKUP_EXTENSION}`) : target;

const opened = await openDatabaseBeside((line) => console.log(line));
try {
  const summary = await backupDatabase(opened.url, file, { createdBy: `qms ${process.env.npm_package_version ?? ''}`.trim() });
  const rows = Object.values(summary.rows).reduce((a, b) => a + b, 0);
  console.log(`Backed up ${opened.describe} to ${path.resolve(file)}: ${formatBytes(summary.bytes)}, ${rows} rows in ${Object.keys(summary.rows).length} tables, ${summary.ms} ms (schema ${summary.migrations.at(-1) ?? 'empty'})`);
} catch (error) {
  console.error(`Backup failed: ${(error as Error).message}`);
  process.exitCode = 1;
} finally {
  await opened.embedded?.stop();
}
