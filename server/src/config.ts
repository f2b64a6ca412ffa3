// Everything the server reads from the environment, in one place (listed in the README).
export interface Config {
  port: number;
  host: string;
  /** public base URL printed and encoded in ticket QR codes; defaults to http://<host>:<port> */
  publicUrl: string | undefined;
  /** seed the demo centre into an empty database */
  demo: boolean;
  adminPassword: string | undefined;
  rateLimits: boolean;
  /** login attempts per address and username per minute */
  loginPerMinute: number;
  /** tickets one kiosk may issue per minute */
  ticketsPerMinute: number;
  logLevel: string;
  cluster: boolean;
}

function flag(value: string | undefined, fallback: boolean): boolean {
  if (value === undefined || value === '') return fallback;
  return !['0', 'false', 'off', 'no'].includes(value.toLowerCase());
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const port = Number(env.PORT ?? 8080);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`PORT must be a port number, got "${env.PORT}"`);
  return {
    port,
    host: env.HOST ?? '0.0.0.0',
    publicUrl: env.QMS_PUBLIC_URL || undefined,
    demo: flag(env.QMS_DEMO, true),
    adminPassword: env.QMS_ADMIN_PASSWORD || undefined,
    rateLimits: flag(env.QMS_RATE_LIMITS, true),
    loginPerMinute: Number(env.QMS_RATE_LOGIN_PER_MINUTE ?? 10),
    ticketsPerMinute: Number(env.QMS_RATE_TICKETS_PER_MINUTE ?? 30),
    logLevel: env.LOG_LEVEL ?? 'info',
    // an external database may be shared by several processes: fan out through it unless told not to
    cluster: flag(env.QMS_CLUSTER, !!env.DATABASE_URL),
  };
}
