// The Idempotency-Key of one press of a "take a number" button (the kiosk's, the counter
// terminal's walk-in): every retry of that press sends the same key, so a lost answer never
// makes a second ticket.

/** A key for one press: random, and made without crypto.randomUUID (only in secure contexts, and kiosks and terminals often load over plain http on the LAN). */
export function newIssueKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}
