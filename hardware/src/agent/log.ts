/**
 * JSON lines on stdout, one object per event: journald keeps them, `jq` reads them, and a
 * technician can grep for a device name. No dependency: the agent runs on small kiosk PCs.
 */

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface AgentLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  /** a logger whose lines also carry these fields */
  child(fields: object): AgentLogger;
}

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Errors become {message, code}: JSON.stringify of an Error is `{}`. */
function plain(value: unknown): unknown {
  if (value instanceof Error) {
    const code = (value as NodeJS.ErrnoException).code;
    // fetch hides the reason ("fetch failed"): ECONNREFUSED and the like are in its cause
    const cause = value.cause instanceof Error ? plain(value.cause) : undefined;
    return { message: value.message, ...(code ? { code } : {}), name: value.name, ...(cause ? { cause } : {}) };
  }
  return value;
}

export function createLogger(options: { level?: LogLevel; write?: (line: string) => void; fields?: object } = {}): AgentLogger {
  const min = RANK[options.level ?? 'info'];
  const write = options.write ?? ((line: string) => process.stdout.write(line + '\n'));
  const base = options.fields ?? {};
  const emit = (level: LogLevel, obj: object, msg?: string) => {
    if (RANK[level] < min) return;
    const record: Record<string, unknown> = { time: new Date().toISOString(), level, ...base };
    for (const [key, value] of Object.entries(obj ?? {})) record[key] = plain(value);
    if (msg) record.msg = msg;
    let line: string;
    try {
      line = JSON.stringify(record);
    } catch {
      line = JSON.stringify({ time: record.time, level, ...base, msg, unserialisable: true });
    }
    write(line);
  };
  return {
    debug: (obj, msg) => emit('debug', obj, msg),
    info: (obj, msg) => emit('info', obj, msg),
    warn: (obj, msg) => emit('warn', obj, msg),
    error: (obj, msg) => emit('error', obj, msg),
    child: (fields) => createLogger({ ...options, fields: { ...base, ...fields } }),
  };
}

/** A logger that keeps nothing (tests that do not read the log). */
export const silentLogger = (): AgentLogger => createLogger({ level: 'error', write: () => {} });
