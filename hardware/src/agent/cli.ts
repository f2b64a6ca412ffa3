#!/usr/bin/env -S node --import tsx
/**
 * The site agent on the kiosk PC:  npm run agent -- --config /etc/qms/site-agent.json
 * (docs/site-agent.md). Exits 2 on a config error; otherwise runs until SIGINT/SIGTERM,
 * retrying the server and the hardware for ever.
 */
import { parseArgs } from 'node:util';
import { SiteAgent } from './agent.ts';
import { AgentConfigError, loadAgentConfig } from './config.ts';
import { createLogger } from './log.ts';
// Peripheral types register themselves on import; add a line per module.
import '../led/register.ts';
import '../pads/register.ts';

const USAGE = `Usage: qms-site-agent --config <site-agent.json> [--check]

  --config, -c   the agent's config file (or QMS_AGENT_CONFIG); see docs/site-agent.md
  --check        check the config and exit (0 when valid)
`;

async function main(): Promise<number> {
  let args;
  try {
    args = parseArgs({ options: { config: { type: 'string', short: 'c' }, check: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } }).values;
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  if (args.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const file = args.config ?? process.env.QMS_AGENT_CONFIG;
  if (!file) {
    process.stderr.write(USAGE);
    return 2;
  }
  let config;
  try {
    config = await loadAgentConfig(file, { requireKnownPeripherals: true });
  } catch (error) {
    if (error instanceof AgentConfigError) {
      process.stderr.write(`${error.message}\n`);
      return 2;
    }
    throw error;
  }
  if (args.check) {
    process.stdout.write(`${file}: valid (${config.devices.length} device(s))\n`);
    return 0;
  }
  const log = createLogger({ level: config.logLevel ?? 'info' });
  // never die of a stray rejection from hardware or network code: log it and go on
  process.on('unhandledRejection', (reason) => log.error({ err: reason }, 'unhandled rejection'));
  const agent = new SiteAgent({ config, log });
  await agent.start();
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      log.info({ signal }, 'stopping');
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await agent.stop();
  return 0;
}

main().then((code) => process.exit(code), (error: Error) => {
  process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), level: 'error', msg: 'site agent crashed', err: { message: error.message, stack: error.stack } })}\n`);
  process.exit(1);
});
