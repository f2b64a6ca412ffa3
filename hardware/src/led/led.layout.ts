// What a counter LED board holds, register by register (docs/site-agent.md, "LED boards"):
//
// - text boards (default): `registers` holding registers from `startRegister`, two ASCII
//   characters each, high byte first, the code left-aligned and padded with spaces:
//   A023 on 4 registers -> 0x4130 0x3233 0x2020 0x2020; cleared -> all 0x2020.
// - numericOnly boards (7-segment digits only): one register holding the code's digits as a
//   binary number: A023 -> 23 (0x0017); cleared -> `blankValue` (0 unless the board has a
//   "blank" value, often 0xFFFF).

export interface LedLayout {
  numericOnly: boolean;
  /** text boards: how many registers (2 characters each) */
  registers: number;
  /** numeric boards: what "nothing" is */
  blankValue: number;
}

export function codeToRegisters(code: string | null, layout: LedLayout): number[] {
  if (layout.numericOnly) {
    if (code === null) return [layout.blankValue];
    const digits = code.replace(/\D+/g, '');
    const value = digits ? Number.parseInt(digits.slice(-5), 10) : layout.blankValue;
    return [value > 0xffff ? value % 10_000 : value];
  }
  const chars = layout.registers * 2;
  const text = (code ?? '').toUpperCase().slice(0, chars).padEnd(chars, ' ');
  const values: number[] = [];
  for (let i = 0; i < chars; i += 2) values.push((ascii(text.charCodeAt(i)) << 8) | ascii(text.charCodeAt(i + 1)));
  return values;
}

/** Printable ASCII or '?': a board's font has nothing else. */
const ascii = (c: number) => (c >= 0x20 && c <= 0x7e ? c : 0x3f);
