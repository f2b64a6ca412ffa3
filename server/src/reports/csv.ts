// RFC 4180: fields separated by commas, records ended by CRLF; a field holding a comma, a
// quote, CR or LF is quoted, with its quotes doubled. Empty field = no value.
//
// Text that a spreadsheet would read as a formula (starting with =, +, -, @, a tab or CR: a
// service or official's name typed as `=HYPERLINK(...)`, say) gets a leading apostrophe, so
// Excel, LibreOffice and Sheets show it as text instead of running it (OWASP "CSV injection").
// Numbers, and decimal strings such as "-1.5", are left as they are.

export type CsvValue = string | number | null | undefined;

const FORMULA_START = /^[=+\-@\t\r]/;
const DECIMAL = /^[+-]?\d+(\.\d+)?$/;

export function csvField(value: CsvValue): string {
  if (value === null || value === undefined) return '';
  let text = String(value);
  if (typeof value === 'string' && FORMULA_START.test(text) && !DECIMAL.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** One record, CRLF included. */
export function csvLine(values: readonly CsvValue[]): string {
  return `${values.map(csvField).join(',')}\r\n`;
}
