// Citizens' and leaders' addresses: checked and written one way, and shown only masked.

/**
 * A Vietnamese mobile number as SMS gateways and Zalo take it: 84 and 9 digits. Accepts what
 * people type: 0912 345 678, +84 912.345.678, 84912345678. Mobile prefixes only (3, 5, 7, 8, 9
 * after the 0): a landline cannot receive an SMS.
 */
export function vietnameseMobile(input: string): string | null {
  const digits = input.replace(/[\s.-]/g, '');
  const national = /^(?:\+?84|0)([35789][0-9]{8})$/.exec(digits);
  return national ? `84${national[1]}` : null;
}

export const isEmail = (input: string) => /^[^\s@]{1,64}@[^\s@]{1,190}\.[a-z]{2,}$/i.test(input);

/** 84912345678 → 0912***678; nguyen.lan@example.vn → n***@example.vn; a URL stays (it is the integrator's, not a person's). */
export function masked(address: string | null, channel: string): string | null {
  if (!address) return null;
  if (channel === 'webhook') return address;
  if (channel === 'email') return address.replace(/^(.)[^@]*@/, '$1***@');
  const national = address.startsWith('84') ? `0${address.slice(2)}` : address;
  return `${national.slice(0, 4)}***${national.slice(-3)}`;
}
