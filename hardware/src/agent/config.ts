import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Type, type Static, type TSchema } from 'typebox';
import { Value } from 'typebox/value';
import { lookupPeripheral, registeredPeripheralTypes } from './peripherals.ts';

// The site agent's config file (docs/site-agent.md has a reference and an example,
// hardware/site-agent.example.json). Checked against these schemas before anything starts,
// with errors that name the entry and the field.

const strict = { additionalProperties: false } as const;

const WidthDots = Type.Integer({ minimum: 128, maximum: 1024, multipleOf: 8, description: '576 for 80 mm paper (default), 384 for 58 mm' });
const Claim = Type.Boolean({ description: "tell the server this kiosk's tickets are printed here when it has no printer set (default true)" });

export const DeviceFilePrinterConfig = Type.Object({
  kind: Type.Literal('device-file'),
  /** /dev/usb/lp0 for a USB printer (kernel usblp driver), /dev/lp0 for a parallel one */
  path: Type.String({ minLength: 1 }),
  widthDots: Type.Optional(WidthDots),
  claim: Type.Optional(Claim),
}, strict);

export const SerialPrinterConfig = Type.Object({
  kind: Type.Literal('serial'),
  path: Type.String({ minLength: 1 }),
  baudRate: Type.Optional(Type.Integer({ minimum: 1200, maximum: 921_600 })),
  rtscts: Type.Optional(Type.Boolean()),
  widthDots: Type.Optional(WidthDots),
  claim: Type.Optional(Claim),
}, strict);

export const TcpPrinterConfig = Type.Object({
  kind: Type.Literal('tcp'),
  host: Type.String({ minLength: 1, maxLength: 253 }),
  port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65_535 })),
  widthDots: Type.Optional(WidthDots),
  claim: Type.Optional(Claim),
}, strict);

export type PrinterConfig = Static<typeof DeviceFilePrinterConfig> | Static<typeof SerialPrinterConfig> | Static<typeof TcpPrinterConfig>;
const PRINTER_SCHEMAS: Record<string, TSchema> = { 'device-file': DeviceFilePrinterConfig, serial: SerialPrinterConfig, tcp: TcpPrinterConfig };

/** A peripheral entry: its `type` picks the module; the rest is that module's to check. */
export const PeripheralConfig = Type.Object({ type: Type.String({ minLength: 1 }) }, { additionalProperties: true });

export const DeviceConfig = Type.Object({
  /** the key of this device in the state file, and in log lines */
  name: Type.String({ minLength: 1, maxLength: 100 }),
  /** one-time code from the manager console (POST /api/v1/devices/pair); only needed until paired */
  pairingCode: Type.Optional(Type.String({ minLength: 4, maxLength: 64 })),
  printer: Type.Optional(Type.Object({ kind: Type.String() }, { additionalProperties: true })),
  /** how often an idle printer's state is read, to report paper out before a citizen finds it */
  statusIntervalSeconds: Type.Optional(Type.Number({ minimum: 1, maximum: 3600 })),
  peripherals: Type.Optional(Type.Array(PeripheralConfig)),
}, strict);

export const AgentConfigSchema = Type.Object({
  /** the queue server, e.g. http://192.168.1.10:8080 */
  server: Type.String({ pattern: '^https?://[^\\s/]+(/[^\\s]*)?$' }),
  /** tokens are kept here (mode 0600); relative to the config file */
  stateFile: Type.String({ minLength: 1 }),
  logLevel: Type.Optional(Type.Union([Type.Literal('debug'), Type.Literal('info'), Type.Literal('warn'), Type.Literal('error')])),
  devices: Type.Array(DeviceConfig, { minItems: 1 }),
}, strict);

/** a peripheral's entry: its type, and whatever fields that type takes */
export type PeripheralEntry = { type: string } & Record<string, unknown>;
export type AgentDeviceConfig = Omit<Static<typeof DeviceConfig>, 'printer' | 'peripherals'> & { printer?: PrinterConfig; peripherals?: PeripheralEntry[] };
export type AgentConfig = Omit<Static<typeof AgentConfigSchema>, 'devices'> & { devices: AgentDeviceConfig[] };

export class AgentConfigError extends Error {
  override name = 'AgentConfigError';
  constructor(readonly problems: string[], source = 'config') {
    super(`${source} is not valid:\n  - ${problems.join('\n  - ')}`);
  }
}

/** "/devices/0/printer/port" → "devices[0].printer.port" */
function where(base: string, pointer: string): string {
  const parts = pointer.split('/').filter(Boolean).map((p) => (/^\d+$/.test(p) ? `[${p}]` : `.${p}`));
  const joined = base + parts.join('');
  return joined.replace(/^\./, '') || '(top level)';
}

function problems(schema: TSchema, value: unknown, base = ''): string[] {
  if (Value.Check(schema, value)) return [];
  const out: string[] = [];
  for (const e of Value.Errors(schema, value)) {
    // "schema is false" repeats the additionalProperties error that names the field
    if (e.keyword === 'boolean') continue;
    const params = e.params as Record<string, unknown>;
    let message = e.message;
    if (e.keyword === 'additionalProperties' && Array.isArray(params.additionalProperties)) message = `unknown field(s) ${params.additionalProperties.map((f) => `"${f}"`).join(', ')}`;
    if (e.keyword === 'required' && Array.isArray(params.requiredProperties)) message = `missing field(s) ${params.requiredProperties.map((f) => `"${f}"`).join(', ')}`;
    out.push(`${where(base, e.instancePath)}: ${message}`);
    if (out.length >= 10) break;
  }
  return out.length ? out : [`${base || '(top level)'}: does not match the schema`];
}

/**
 * Checks a parsed config. `requireKnownPeripherals` (the CLI) also refuses peripheral types
 * no module registered, so a typo stops the agent at start, not at the first call.
 */
export function parseAgentConfig(value: unknown, options: { source?: string; baseDir?: string; requireKnownPeripherals?: boolean } = {}): AgentConfig {
  const found = problems(AgentConfigSchema, value);
  if (found.length) throw new AgentConfigError(found, options.source);
  const config = structuredClone(value) as AgentConfig;
  const names = new Set<string>();
  config.devices.forEach((device, i) => {
    const at = `devices[${i}]`;
    if (names.has(device.name)) found.push(`${at}.name: "${device.name}" is used twice (it keys the state file)`);
    names.add(device.name);
    if (device.printer) {
      const schema = PRINTER_SCHEMAS[device.printer.kind];
      if (!schema) found.push(`${at}.printer.kind: "${device.printer.kind}" is not one of device-file, serial, tcp`);
      else found.push(...problems(schema, device.printer, `${at}.printer`));
    }
    (device.peripherals ?? []).forEach((p, j) => {
      if (options.requireKnownPeripherals && !lookupPeripheral(p.type)) {
        const known = registeredPeripheralTypes();
        found.push(`${at}.peripherals[${j}].type: unknown peripheral type "${p.type}" (known: ${known.length ? known.join(', ') : 'none'})`);
      }
    });
  });
  try {
    new URL(config.server);
  } catch {
    found.push(`server: "${config.server}" is not a URL`);
  }
  if (found.length) throw new AgentConfigError(found, options.source);
  config.server = config.server.replace(/\/+$/, '');
  if (options.baseDir) config.stateFile = path.resolve(options.baseDir, config.stateFile);
  return config;
}

/** Reads and checks a config file; relative paths in it are relative to the file. */
export async function loadAgentConfig(file: string, options: { requireKnownPeripherals?: boolean } = {}): Promise<AgentConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new AgentConfigError([`cannot read ${file}: ${(error as Error).message}`], file);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new AgentConfigError([`not JSON: ${(error as Error).message}`], file);
  }
  return parseAgentConfig(value, { source: file, baseDir: path.dirname(path.resolve(file)), ...options });
}
