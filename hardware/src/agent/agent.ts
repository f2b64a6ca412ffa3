import type { AgentConfig } from './config.ts';
import { DeviceLink, type Backoff } from './device-link.ts';
import { createLogger, type AgentLogger } from './log.ts';
import { StateStore } from './state.ts';

// The site agent: the kiosk PC's bridge between the queue server and what is plugged into
// the PC (a USB or serial ticket printer, counter LED boards, button pads). One DeviceLink
// per configured device; each retries on its own, so one device's trouble never stops another.

export interface SiteAgentOptions {
  config: AgentConfig;
  log?: AgentLogger;
  backoff?: Backoff;
}

export class SiteAgent {
  readonly links: DeviceLink[];
  readonly log: AgentLogger;
  private readonly state: StateStore;

  constructor(private readonly options: SiteAgentOptions) {
    this.log = options.log ?? createLogger({ level: options.config.logLevel ?? 'info' });
    this.state = new StateStore(options.config.stateFile, this.log);
    this.links = options.config.devices.map((config) => new DeviceLink({
      server: options.config.server, config, state: this.state, log: this.log,
      ...(options.backoff ? { backoff: options.backoff } : {}),
    }));
  }

  /** Reads the state file and starts every device in the background. */
  async start(): Promise<void> {
    await this.state.load();
    this.log.info({ server: this.options.config.server, devices: this.links.map((l) => l.name) }, 'site agent starting');
    for (const link of this.links) link.start();
  }

  /** Resolves once every device's socket is connected. */
  async whenConnected(): Promise<void> {
    await Promise.all(this.links.map((l) => l.whenConnected()));
  }

  link(name: string): DeviceLink | undefined {
    return this.links.find((l) => l.name === name);
  }

  async stop(): Promise<void> {
    await Promise.all(this.links.map((l) => l.stop()));
    this.log.info({}, 'site agent stopped');
  }
}
