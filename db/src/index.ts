export * from './types.ts';
export { createDb, createPool, poolUse, PoolBusyError, reachable, type Db, type DbOptions, type StatementPace } from './connection.ts';
export { credentialsFile, startEmbeddedPostgres, freePort, type EmbeddedPostgresHandle, type EmbeddedState } from './embedded.ts';
export { migrateToLatest } from './migrate.ts';
export { seedCentre, seedDemoIfEmpty, loadDemoCentre, parseWeekdays, type CentreFile } from './seed.ts';
export { openDatabase, type OpenedDatabase } from './open.ts';
export { projectRoot } from './project-root.ts';
export { schedIdle, threadTaskId, sessionScheduled, setSessionNice, IDLE_SESSION_NICE } from './backend-nice.ts';
export { postgresUser, SetupError } from './postgres-process.ts';
export { openDatabaseBeside, runningEmbedded, embeddedDataDir } from './open.ts';
export { migrateTo, migrationNames, migrator } from './migrate.ts';
export {
  backupDatabase, restoreDatabase, readBackupHeader, backupBeforeMigrating, tablesWithRows, timestampForFile, formatBytes,
  BackupError, BACKUP_EXTENSION, BACKUP_FORMAT, BACKUP_MAGIC,
  type BackupHeader, type BackupSummary, type BackupOptions, type RestoreOptions, type RestoreSummary,
} from './backup.ts';
