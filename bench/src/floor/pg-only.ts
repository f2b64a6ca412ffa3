// Floor of a cold start: only what the embedded database itself needs (initdb on a fresh
// directory, then start), in a Node process started the same way as the server.
import { startEmbeddedPostgres } from '@qms/db';

const dir = process.env.QMS_BENCH_PG_DIR!;
const pg = await startEmbeddedPostgres({ dir, database: 'qms' });
console.log('ready');
const stop = () => void pg.stop().finally(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
