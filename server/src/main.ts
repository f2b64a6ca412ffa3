// npm start: open the database (embedded unless DATABASE_URL), migrate, seed, listen, and
// stop everything cleanly on Ctrl-C.
import closeWithGrace from 'close-with-grace';
import { BackupError, backupBeforeMigrating, createDb, createPool, migrateToLatest, openDatabase, seedDemoIfEmpty, SetupError } from '@qms/db';
import { ensureAdmin, ensureDemoAccess, officialsLine, type DemoAccess } from './auth/bootstrap.ts';
import { buildApp } from './app.ts';
import { loadConfig } from './config.ts';
import { SCREENS } from './plugins/ui.plugin.ts';
import { version } from './version.ts';

const config = loadConfig();
// Benchmarks only (bench/src/lib/processes.ts): their null printers listen on 127.0.0.1. A flag
// on the command line, not an environment variable, so that no site turns it on by accident.
const allowLoopbackPrinters = process.argv.slice(2).includes('--allow-loopback-printers');
// Benchmarks only (bench `reportload`): reports on the queue's pool, as before they had their own,
// to measure what their own pool (app.ts createReportDb, made from databaseUrl) changes.
const reportsOnMainPool = process.argv.slice(2).includes('--reports-on-main-pool');
const log = (line: string) => console.log(line);

const opened = await openDatabase(log).catch((error: unknown) => {
  // a start that cannot work as set up says what to do, in one sentence and no stack
  if (!(error instanceof SetupError)) throw error;
  console.error(error.message);
  process.exit(1);
});
let demo: DemoAccess | undefined;
let admin: Awaited<ReturnType<typeof ensureAdmin>>;
const db = createDb(opened.url, { max: 20, applicationName: 'qms-server' });
try {
  // a non-empty embedded database is backed up before it migrates (data folder's backups/)
  await backupBeforeMigrating(opened, { log, createdBy: `qms ${version}` });
  await migrateToLatest(db);
  if (config.demo && (await seedDemoIfEmpty(db))) log('Seeded the demo centre (QMS_DEMO=0 to start empty).');
  admin = await ensureAdmin(db, config.adminPassword);
} catch (error) {
  await db.destroy();
  await opened.embedded?.stop();
  if (error instanceof BackupError) {
    console.error(error.message);
    process.exit(1);
  }
  throw error;
}

// several processes on one database fan socket events out through PostgreSQL
const clusterPool = config.cluster ? createPool(opened.url, { max: 4, applicationName: 'qms-socket-adapter' }) : undefined;
const app = await buildApp({ db, config, logger: { level: config.logLevel }, clusterPool, allowLoopbackPrinters, embedded: opened.embedded, databaseUrl: opened.url,
  ...(reportsOnMainPool ? { reportDb: db } : {}),
});
if (config.demo) demo = await ensureDemoAccess(db, app.services.auth, config.demoPassword);
if (allowLoopbackPrinters) app.log.warn('--allow-loopback-printers: kiosk printers may be on 127.0.0.1 (benchmarks only)');
if (reportsOnMainPool) app.log.warn('--reports-on-main-pool: reports share the queue\'s connections (benchmarks only)');

closeWithGrace({ delay: 10_000 }, async ({ signal, err }) => {
  if (err) app.log.error({ err }, 'stopping after an error');
  else log(`\n${signal ?? 'stop'}: closing the server and the database...`);
  await app.close();
  await clusterPool?.end();
  await db.destroy();
  await opened.embedded?.stop();
  log('Stopped.');
});

// thousands of screens reconnect at once after a restart: a short backlog drops their SYNs into TCP retries
await app.listen({ port: config.port, host: config.host, backlog: 4096 });
const base = config.publicUrl ?? `http://${config.host === '0.0.0.0' ? 'localhost' : config.host}:${app.server.address() && typeof app.server.address() === 'object' ? (app.server.address() as { port: number }).port : config.port}`;
const adminSignIn = admin.generatedPassword
  ? `Sign in at ${base}/manage/ as "admin" with the password ${admin.generatedPassword}\n  (shown once; QMS_ADMIN_PASSWORD chooses it)`
  : admin.created ? `Sign in at ${base}/manage/ as "admin" with the password from QMS_ADMIN_PASSWORD.` : undefined;
if (!demo) {
  // a production start says where it runs and, the first time, how to sign in: nothing else
  log(`Queue management system is running at ${base} (${opened.describe}).`);
  if (adminSignIn) log(adminSignIn);
} else {
  if (adminSignIn) log(adminSignIn);
  log(`\nQueue management system is running at ${base}. Database: ${opened.describe}`);
  for (const screen of SCREENS) {
    const code = demo.pairing.find((p) => p.screen === screen.path)?.code;
    log(`  ${screen.path.padEnd(8)} ${base}/${screen.path}/${code ? `?pair=${code}` : ''}`);
  }
  log(`  health   ${base}/api/health`);
  log(`  API docs ${base}/api/docs\n`);
  log(`Demo centre ${demo.siteCode}: the ?pair= codes pair each screen once (valid 15 min, new ones on every start).`);
  const officials = officialsLine(demo);
  if (officials) log(officials);
  log('Managers and admins sign in at /manage/ (user "admin").\n');
}
