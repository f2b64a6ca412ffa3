import { describe, expect, it } from 'vitest';
import { Compile } from 'typebox/compile';
import { Ticket, TICKET_STATUSES } from '../src/index.ts';

describe('Ticket schema', () => {
  const check = Compile(Ticket);
  const ticket = {
    id: 't1', publicId: 'p', code: 'A023', number: 23, siteId: 's', serviceId: 'v', status: 'waiting',
    priority: 'none', lang: 'vi', issuedAt: '2026-11-22T08:15:03.120+07:00', transferCount: 0,
  };

  it('accepts a ticket as API.md describes it', () => {
    expect(check.Check(ticket)).toBe(true);
  });

  it('knows exactly the seven statuses of API.md', () => {
    expect(TICKET_STATUSES).toEqual(['waiting', 'called', 'serving', 'done', 'no_show', 'transferred', 'cancelled', 'expired']);
    expect(check.Check({ ...ticket, status: 'lost' })).toBe(false);
  });
});
