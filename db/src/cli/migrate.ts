// npm run db:migrate: brings the database (DATABASE_URL, or the embedded one) to the latest schema.
import { createDb } from '../connection.ts';
import { migrateToLatest } from '../migrate.ts';
import { openDatabase } from '../open.ts';

const opened = await openDatabase((line) => console.log(line));
const db = createDb(opened.url, { max: 1 });
try {
  const { results = [] } = await migrateToLatest(db);
  console.log(`${opened.describe}: ${results.length ? results.map((r) => `${r.migrationName} ${r.status}`).join(', ') : 'already up to date'}`);
} finally {
  await db.destroy();
  await opened.embedded?.stop();
}
