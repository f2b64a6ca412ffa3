import { createHash, randomBytes } from 'node:crypto';
import { chmod, mkdir, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import path from 'node:path';

// Device tokens the agent obtained by pairing, kept between runs so a pairing code is used
// once. The file holds secrets: written 0600 through a temporary file and a rename, so a
// power cut never leaves half a file and nobody else on the PC can read a token.

export interface DeviceState {
  deviceId: string;
  token: string;
  /** the server the token belongs to: another server in the config means pairing again */
  server: string;
  /** sha256 of the pairing code spent, so a new code in the config re-pairs */
  pairedWith?: string;
  pairedAt: string;
}

export interface AgentState {
  version: 1;
  devices: Record<string, DeviceState>;
}

export const hashCode = (code: string) => createHash('sha256').update(code).digest('hex');

export class StateStore {
  private state: AgentState = { version: 1, devices: {} };
  private writing: Promise<void> = Promise.resolve();

  constructor(readonly file: string, private readonly log?: { warn(obj: object, msg?: string): void }) {}

  async load(): Promise<void> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    const info = await stat(this.file);
    if (info.mode & 0o077) {
      this.log?.warn({ file: this.file, mode: (info.mode & 0o777).toString(8) }, 'state file readable by others: set to 0600');
      await chmod(this.file, 0o600);
    }
    try {
      const parsed = JSON.parse(text) as AgentState;
      if (parsed?.version === 1 && parsed.devices && typeof parsed.devices === 'object') this.state = parsed;
      else this.log?.warn({ file: this.file }, 'state file not understood: devices will pair again');
    } catch {
      this.log?.warn({ file: this.file }, 'state file is not JSON: devices will pair again');
    }
  }

  get(name: string): DeviceState | undefined {
    return this.state.devices[name];
  }

  async set(name: string, value: DeviceState | undefined): Promise<void> {
    if (value) this.state.devices[name] = value;
    else delete this.state.devices[name];
    await this.save();
  }

  /** Writes are queued: two devices pairing at once both end up in the file. */
  private save(): Promise<void> {
    const next = this.writing.then(() => this.write(), () => this.write());
    this.writing = next.catch(() => {});
    return next;
  }

  private async write(): Promise<void> {
    await mkdir(path.dirname(this.file), { recursive: true, mode: 0o700 });
    const temp = `${this.file}.${randomBytes(4).toString('hex')}.tmp`;
    const handle = await open(temp, 'wx', 0o600);
    try {
      await handle.writeFile(JSON.stringify(this.state, null, 2) + '\n');
      await handle.sync();
    } finally {
      await handle.close();
    }
    try {
      await rename(temp, this.file);
    } catch (error) {
      await unlink(temp).catch(() => {});
      throw error;
    }
  }
}
