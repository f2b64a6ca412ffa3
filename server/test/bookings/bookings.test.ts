import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { apiFixture, bearer, type ApiFixture } from '../support/api-fixture.ts';
import { TestClock } from '../support/queue-fixture.ts';
import { smsGateway, type SmsGateway } from '../support/sms-gateway.ts';

// Appointments and remote tickets through the HTTP API: a slot booked on the public API and
// confirmed by the code the SMS gateway (a real HTTP peer on 127.0.0.1) received, the places of a
// block under concurrent requests, the limits against hoarding, check-in at the kiosk by code, by
// the booking's link and by a chip ID card's QR code, late and early arrivals, a remote ticket
// and its lapse, the day's end, and the provincial portal's key. A real PostgreSQL.

const clock = new TestClock('2026-11-24T02:00:00Z'); // Tuesday 09:00 in Hà Nội: the demo centre is open
const T = (local: string) => new Date(`2026-11-24T${local}:00+07:00`).toISOString();
let f: ApiFixture;
let gateway: SmsGateway;
const logs: string[] = [];

beforeAll(async () => {
  f = await apiFixture({ clock: clock.now, config: { rateLimits: false, notifyPollMs: 0 }, logger: { level: 'debug', stream: { write: (line: string) => void logs.push(line) } } });
  gateway = await smsGateway();
  const res = await api('PUT', `/sites/${f.siteId}/notification-channels/sms`, f.tokens.manager,
    { enabled: true, settings: gateway.settings, secrets: { authorization: 'Bearer gateway-token' } });
  expect(res.statusCode, res.body).toBe(200);
  await setRules({ enabled: true, remoteEnabled: true, perContactPerDay: 2, walkInCapMinutes: 15, bookedInRow: 2 });
  // Tuesdays (ISO 2): Hộ tịch takes 5 bookings at 09:30, 10 at 10:00, 1 at 10:30 and 20 at 14:00
  await f.t.db.insertInto('bookingCapacity').values([
    { siteId: f.siteId, serviceId: f.services.HT!, weekday: 2, starts: '09:30', capacity: 5 },
    { siteId: f.siteId, serviceId: f.services.HT!, weekday: 2, starts: '10:00', capacity: 10 },
    { siteId: f.siteId, serviceId: f.services.HT!, weekday: 2, starts: '10:30', capacity: 1 },
    { siteId: f.siteId, serviceId: f.services.HT!, weekday: 2, starts: '14:00', capacity: 20 },
    // outside the morning session (11:30): never offered
    { siteId: f.siteId, serviceId: f.services.HT!, weekday: 2, starts: '11:30', capacity: 5 },
  ]).execute();
});
afterAll(async () => {
  await f?.app.close();
  await gateway?.close();
  await f?.t.drop();
});
beforeEach(() => {
  clock.set('2026-11-24T02:00:00Z');
  gateway.messages.length = 0;
});

function api(method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, token?: string, payload?: object) {
  return f.app.inject({ method, url: `/api/v1${url}`, headers: token ? bearer(token) : {}, ...(payload ? { payload } : {}) });
}
async function setRules(rules: Record<string, unknown>) {
  await f.t.db.updateTable('site').set({ settings: sql`settings || jsonb_build_object('bookings', coalesce(settings->'bookings', '{}'::jsonb) || ${JSON.stringify(rules)}::jsonb)` })
    .where('id', '=', f.siteId).execute();
}
const deliver = () => f.app.services.notificationWorker.runOnce();
/** the code the gateway received last for a number (84…) */
async function codeSentTo(phone: string) {
  await deliver();
  const code = /Mã xác nhận của bạn là (\d{6})/;
  const m = [...gateway.messages].reverse().find((x) => x.to === phone && code.test(x.text));
  expect(m, `a code to ${phone}`).toBeDefined();
  return code.exec(m!.text)![1]!;
}
async function bookConfirmed(phone: string, slotAt: string, extra: object = {}) {
  const res = await api('POST', '/public/sites/PHUONG-DONG-CAM/bookings', undefined, { serviceId: f.services.HT, slotAt, phone, consent: true, ...extra });
  expect(res.statusCode, res.body).toBe(201);
  const { publicId } = res.json().booking;
  const otp = await codeSentTo(`84${phone.slice(1)}`);
  const ok = await api('POST', `/public/bookings/${publicId}/confirm`, undefined, { otp });
  expect(ok.statusCode, ok.body).toBe(200);
  return ok.json().booking as { publicId: string; code: string; slotAt: string; status: string };
}
const checkIn = (body: object, token = f.tokens.kiosk) => api('POST', `/sites/${f.siteId}/check-in`, token, body);
const tickets = async () => (await f.t.db.selectFrom('ticket').select('id').execute()).length;

describe('slots', () => {
  it('are the field\'s blocks inside opening hours, with the places left, and none past or beyond the horizon', async () => {
    const res = await api('GET', `/public/sites/PHUONG-DONG-CAM/slots?serviceId=${f.services.HT}&date=2026-11-24`);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().slots).toEqual([
      { startsAt: '2026-11-24T09:30:00.000+07:00', endsAt: '2026-11-24T10:00:00.000+07:00', capacity: 5, left: 5 },
      { startsAt: '2026-11-24T10:00:00.000+07:00', endsAt: '2026-11-24T10:30:00.000+07:00', capacity: 10, left: 10 },
      { startsAt: '2026-11-24T10:30:00.000+07:00', endsAt: '2026-11-24T11:00:00.000+07:00', capacity: 1, left: 1 },
      { startsAt: '2026-11-24T14:00:00.000+07:00', endsAt: '2026-11-24T14:30:00.000+07:00', capacity: 20, left: 20 },
    ]);
    // past slots are not offered: at 09:40 the day starts at 10:00
    clock.set(T('09:40'));
    expect((await api('GET', `/public/sites/PHUONG-DONG-CAM/slots?serviceId=${f.services.HT}&date=2026-11-24`)).json().slots[0].startsAt).toContain('T10:00');
    // Wednesday has no capacity; a date past the 14-day horizon offers nothing
    expect((await api('GET', `/public/sites/PHUONG-DONG-CAM/slots?serviceId=${f.services.HT}&date=2026-11-25`)).json().slots).toEqual([]);
    expect((await api('GET', `/public/sites/PHUONG-DONG-CAM/slots?serviceId=${f.services.HT}&date=2026-12-29`)).json().slots).toEqual([]);
    expect((await api('GET', `/public/sites/NOPE/slots?serviceId=${f.services.HT}&date=2026-11-24`)).statusCode).toBe(404);
    expect((await api('GET', `/public/sites/PHUONG-DONG-CAM/slots?serviceId=${f.services.HT}&date=24/11/2026`)).statusCode).toBe(400);
  });
});

describe('a booking on the public API', () => {
  it('holds its place, is confirmed by the code the phone received, and sends the confirmation and a reminder', async () => {
    const res = await api('POST', '/public/sites/PHUONG-DONG-CAM/bookings', undefined,
      { serviceId: f.services.HT, slotAt: T('14:00'), phone: '0912 345 601', consent: true, procedureCode: '1.001193' });
    expect(res.statusCode, res.body).toBe(201);
    const booking = res.json().booking;
    expect(booking).toMatchObject({ status: 'unconfirmed', kind: 'slot', contact: expect.stringMatching(/^09.*01$/), slotAt: '2026-11-24T14:00:00.000+07:00', checkInFrom: '2026-11-24T13:30:00.000+07:00', checkInUntil: '2026-11-24T14:15:00.000+07:00' });
    expect(booking.code).toMatch(/^\d{8}$/);
    expect(JSON.stringify(booking)).not.toContain('345 601');
    const otp = await codeSentTo('84912345601');

    // a wrong code counts; the right one confirms
    const wrong = await api('POST', `/public/bookings/${booking.publicId}/confirm`, undefined, { otp: otp === '000000' ? '111111' : '000000' });
    expect(wrong.statusCode).toBe(400);
    expect(wrong.json().error).toMatchObject({ code: 'VERIFICATION_FAILED', details: { attemptsLeft: 4 } });
    const ok = await api('POST', `/public/bookings/${booking.publicId}/confirm`, undefined, { otp });
    expect(ok.json().booking.status).toBe('confirmed');
    await deliver();
    const confirmation = gateway.messages.find((m) => m.text.includes('14:00') && m.text.includes('24/11/2026'));
    expect(confirmation?.text).toContain(`/b/${booking.publicId}`);
    expect(confirmation?.text).toContain(`${booking.code.slice(0, 4)} ${booking.code.slice(4)}`);
    // the reminder waits for 13:00 (60 minutes before)
    const reminder = await f.t.db.selectFrom('notification').select(['nextAttemptAt', 'status']).where('purpose', '=', 'booking_reminder').executeTakeFirstOrThrow();
    expect(reminder).toEqual({ nextAttemptAt: new Date(T('13:00')), status: 'pending' });
    clock.set(T('13:00'));
    gateway.messages.length = 0;
    await deliver();
    expect(gateway.messages.map((m) => m.text)).toEqual([expect.stringContaining('Nhắc lịch hẹn')]);

    // the calendar file
    const ics = await api('GET', `/public/bookings/${booking.publicId}/booking.ics`);
    expect(ics.headers['content-type']).toContain('text/calendar');
    expect(ics.body).toContain('DTSTART:20261124T070000Z');
    expect(ics.body).toContain('DTEND:20261124T073000Z');
    expect(ics.body.split('\r\n').every((line) => Buffer.byteLength(line) <= 75)).toBe(true);
  });

  it('never gives a block more bookings than its places, however many ask at once', async () => {
    const asks = await Promise.all(['0912000001', '0912000002', '0912000003', '0912000004', '0912000005'].map((phone) =>
      api('POST', '/public/sites/PHUONG-DONG-CAM/bookings', undefined, { serviceId: f.services.HT, slotAt: T('10:30'), phone, consent: true })));
    expect(asks.map((r) => r.statusCode).sort()).toEqual([201, 409, 409, 409, 409]);
    expect(asks.filter((r) => r.statusCode === 409).every((r) => r.json().error.code === 'SLOT_FULL')).toBe(true);
    const left = (await api('GET', `/public/sites/PHUONG-DONG-CAM/slots?serviceId=${f.services.HT}&date=2026-11-24`)).json().slots;
    expect(left.find((s: { startsAt: string }) => s.startsAt.includes('T10:30'))?.left).toBe(0);
    // an unconfirmed hold ends with its code: the place is offered again
    clock.set(T('09:11'));
    const after = (await api('GET', `/public/sites/PHUONG-DONG-CAM/slots?serviceId=${f.services.HT}&date=2026-11-24`)).json().slots;
    expect(after.find((s: { startsAt: string }) => s.startsAt.includes('T10:30'))?.left).toBe(1);
  });

  it('refuses bad requests with a 4xx and keeps nothing', async () => {
    const count = async () => (await f.t.db.selectFrom('booking').select('id').execute()).length;
    const before = await count();
    const cases: [object, number, string?][] = [
      [{ serviceId: f.services.HT, slotAt: T('14:00'), phone: '0912345699' }, 400], // no consent
      [{ serviceId: f.services.HT, slotAt: T('14:00'), consent: true }, 400, 'CONTACT_REQUIRED'],
      [{ serviceId: f.services.HT, slotAt: T('14:00'), phone: '0243 826 1234', consent: true }, 400, 'INVALID_PHONE'],
      [{ serviceId: f.services.HT, slotAt: T('14:10'), phone: '0912345699', consent: true }, 409, 'SLOT_NOT_OFFERED'],
      [{ serviceId: f.services.HT, slotAt: T('11:30'), phone: '0912345699', consent: true }, 409, 'SLOT_NOT_OFFERED'],
      [{ serviceId: f.services.HT, slotAt: T('08:00'), phone: '0912345699', consent: true }, 409, 'SLOT_NOT_OFFERED'],
      [{ serviceId: f.services.HT, slotAt: T('14:00'), email: 'a@b.vn', consent: true }, 409, 'CHANNEL_NOT_SET_UP'],
      [{ serviceId: f.services.HT, slotAt: T('14:00'), phone: '0912345699', consent: true, idNumber: '12345' }, 400],
      [{ serviceId: f.services.HT, slotAt: T('14:00'), phone: '0912345699', consent: true, extra: 1 }, 400],
      [{ serviceId: f.services.HT, slotAt: 'tomorrow', phone: '0912345699', consent: true }, 400],
      // far outside any calendar a booking uses
      [{ serviceId: f.services.HT, slotAt: '9999-12-31T23:59:59Z', phone: '0912345699', consent: true }, 409, 'SLOT_NOT_OFFERED'],
      [{ serviceId: f.services.HT, slotAt: '0000-01-01T00:00:00Z', phone: '0912345699', consent: true }, 409, 'SLOT_NOT_OFFERED'],
    ];
    for (const [body, status, code] of cases) {
      const res = await api('POST', '/public/sites/PHUONG-DONG-CAM/bookings', undefined, body);
      expect(res.statusCode, JSON.stringify(body)).toBe(status);
      if (code) expect(res.json().error.code).toBe(code);
    }
    expect(await count()).toBe(before);
    expect(logs.join('\n')).not.toMatch(/912345699|0243 826/);
  });

  it('replaces a hold still waiting for its code when the same number asks again', async () => {
    const ask = () => api('POST', '/public/sites/PHUONG-DONG-CAM/bookings', undefined, { serviceId: f.services.HT, slotAt: T('14:00'), phone: '0912777100', consent: true });
    const first = (await ask()).json().booking;
    const second = await ask();
    const third = await ask();
    expect([second.statusCode, third.statusCode]).toEqual([201, 201]);
    expect((await api('GET', `/public/bookings/${first.publicId}`)).json().booking.status).toBe('cancelled');
    await deliver();
    // the third request's code, as the gateway received it (three codes went out, in any order)
    const { id } = await f.t.db.selectFrom('booking').select('id').where('publicId', '=', third.json().booking.publicId).executeTakeFirstOrThrow();
    const sent = await f.t.db.selectFrom('notification').select('body').where('dedupeKey', '=', `${id}:code:1`).executeTakeFirstOrThrow();
    expect(gateway.messages.map((m) => m.text)).toContain(sent.body);
    const otp = /(\d{6})/.exec(sent.body!)![1]!;
    expect((await api('POST', `/public/bookings/${first.publicId}/confirm`, undefined, { otp })).json().error.code).toBe('BOOKING_NOT_CHANGEABLE');
    expect((await api('POST', `/public/bookings/${third.json().booking.publicId}/confirm`, undefined, { otp })).json().booking.status).toBe('confirmed');
  });

  it('stops one number from hoarding a day\'s places', async () => {
    await bookConfirmed('0912777001', T('14:00'));
    await bookConfirmed('0912777001', T('10:00'));
    const third = await api('POST', '/public/sites/PHUONG-DONG-CAM/bookings', undefined, { serviceId: f.services.HT, slotAt: T('14:00'), phone: '0912777001', consent: true });
    expect(third.statusCode).toBe(409);
    expect(third.json().error).toMatchObject({ code: 'BOOKING_LIMIT', details: { limit: 2 } });
  });

  it('locks after five wrong codes, and can be moved and cancelled from its link', async () => {
    const res = await api('POST', '/public/sites/PHUONG-DONG-CAM/bookings', undefined, { serviceId: f.services.HT, slotAt: T('14:00'), phone: '0912888001', consent: true });
    const { publicId } = res.json().booking;
    const otp = await codeSentTo('84912888001');
    const wrong = otp === '123456' ? '654321' : '123456';
    for (let i = 0; i < 5; i++) await api('POST', `/public/bookings/${publicId}/confirm`, undefined, { otp: wrong });
    const locked = await api('POST', `/public/bookings/${publicId}/confirm`, undefined, { otp });
    expect(locked.json().error.code).toBe('VERIFICATION_LOCKED');

    const booking = await bookConfirmed('0912888002', T('14:00'));
    const moved = await api('POST', `/public/bookings/${booking.publicId}/move`, undefined, { slotAt: T('10:00') });
    expect(moved.statusCode, moved.body).toBe(200);
    expect(moved.json().booking.slotAt).toBe('2026-11-24T10:00:00.000+07:00');
    const cancelled = await api('POST', `/public/bookings/${booking.publicId}/cancel`, undefined);
    expect(cancelled.json().booking.status).toBe('cancelled');
    expect((await checkIn({ code: booking.code })).json().error.code).toBe('BOOKING_CANCELLED');
    const reminders = await f.t.db.selectFrom('notification').select('status').where('dedupeKey', 'like', `%:reminder:%`)
      .where('address', '=', '84912888002').execute();
    expect(reminders.length).toBeGreaterThan(0);
    expect(reminders.every((r) => r.status === 'cancelled')).toBe(true);
  });
});

describe('check-in at the kiosk', () => {
  it('puts a booked ticket in line by its slot less the walk-in cap, ahead of later walk-ins', async () => {
    const booking = await bookConfirmed('0912555001', T('10:00'));
    // too early at 09:00 (check-in opens 09:30)
    const early = await checkIn({ code: booking.code });
    expect(early.statusCode).toBe(409);
    expect(early.json().error).toMatchObject({ code: 'BOOKING_TOO_EARLY', details: { checkInFrom: '2026-11-24T09:30:00.000+07:00' } });

    // walk-ins at 09:40 and 09:50; the booked citizen checks in at 09:52
    clock.set(T('09:40'));
    const w1 = (await api('POST', `/sites/${f.siteId}/tickets`, f.tokens.kiosk, { serviceId: f.services.HT })).json().ticket;
    clock.set(T('09:50'));
    const w2 = (await api('POST', `/sites/${f.siteId}/tickets`, f.tokens.kiosk, { serviceId: f.services.HT })).json().ticket;
    clock.set(T('09:52'));
    const before = await tickets();
    const res = await checkIn({ code: `${booking.code.slice(0, 4)} ${booking.code.slice(4)}` });
    expect(res.statusCode, res.body).toBe(201);
    const reply = res.json();
    expect(reply.outcome).toBe('booked');
    expect(reply.ticket.booking).toEqual({ kind: 'slot', slotAt: '2026-11-24T10:00:00.000+07:00' });
    expect(reply.booking.status).toBe('checked_in');
    expect(reply.booking.ticket.code).toBe(reply.ticket.code);
    // in line from 09:45: after the 09:40 walk-in, before the 09:50 one
    expect(reply.ticket.position).toBe((await positionOf(w1.publicId)) + 1);
    expect(await positionOf(w2.publicId)).toBe(reply.ticket.position + 1);
    const row = await f.t.db.selectFrom('ticket').select(['queuedAt', 'bookingKind']).where('id', '=', reply.ticket.id).executeTakeFirstOrThrow();
    expect(row).toEqual({ queuedAt: new Date(T('09:45')), bookingKind: 'slot' });
    // the counter's list: in line from 09:45, but waiting since its holder checked in (09:52), not since 09:45
    clock.set(T('09:55'));
    const list = (await api('GET', `/sites/${f.siteId}/waiting?serviceIds=${f.services.HT}`, f.tokens.staff)).json().tickets;
    const listed = list.find((t: { id: string }) => t.id === reply.ticket.id);
    expect(listed.booking).toEqual({ kind: 'slot', slotAt: '2026-11-24T10:00:00.000+07:00' });
    expect(Math.round(listed.waitedSeconds / 60)).toBe(3);
    // the same booking again makes no second ticket
    const again = await checkIn({ code: booking.code });
    expect(again.json().error.code).toBe('BOOKING_USED');
    expect(await tickets()).toBe(before + 1);
  });

  it('finds the booking from its QR code and from a chip ID card, and forgets the card', async () => {
    const byLink = await bookConfirmed('0912555002', T('10:00'));
    clock.set(T('09:55'));
    const res = await checkIn({ scan: `https://hcc.example.vn/b/${byLink.publicId}` });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json().booking.publicId).toBe(byLink.publicId);

    clock.set(T('09:00'));
    const card = await bookConfirmed('0912555003', T('14:00'), { idNumber: '001099012345' });
    clock.set(T('13:50'));
    const scan = '001099012345|123456789|Nguyễn Văn An|01011990|Nam|Số 1 Hàng Bài, Hoàn Kiếm, Hà Nội|15082021';
    const other = await checkIn({ scan: scan.replace('001099012345', '001099099999') });
    expect(other.statusCode).toBe(404);
    const found = await checkIn({ scan });
    expect(found.statusCode, found.body).toBe(201);
    expect(found.json().booking.publicId).toBe(card.publicId);
    // nothing of the card is kept: not the number, the name, nor the scan, in the database or the logs
    const dump = JSON.stringify(await f.t.db.selectFrom('booking').selectAll().execute());
    expect(dump).not.toMatch(/001099012345|Nguyễn Văn An|Hàng Bài/);
    expect(logs.join('\n')).not.toMatch(/001099012345|Nguyễn Văn An/);
  });

  it('gives a late arrival an ordinary ticket and says so', async () => {
    const booking = await bookConfirmed('0912555004', T('09:30'));
    clock.set(T('09:46'));
    const res = await checkIn({ code: booking.code });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json().outcome).toBe('late');
    expect(res.json().ticket.booking).toBeUndefined();
    const row = await f.t.db.selectFrom('booking').select(['status', 'checkedInLate']).where('publicId', '=', booking.publicId).executeTakeFirstOrThrow();
    expect(row).toEqual({ status: 'checked_in', checkedInLate: true });
  });

  it('refuses another site\'s kiosk, an unknown code and a booking of another day', async () => {
    const booking = await bookConfirmed('0912555005', T('14:00'));
    expect((await api('POST', `/sites/${f.siteId}/check-in`, f.tokens.otherKiosk, { code: booking.code })).statusCode).toBe(403);
    expect((await checkIn({ code: '00000000' })).json().error.code).toBe('BOOKING_NOT_FOUND');
    expect((await checkIn({ scan: '<script>' })).statusCode).toBe(404);
    expect((await checkIn({})).statusCode).toBe(404);
    clock.set('2026-11-25T06:50:00Z'); // Wednesday 13:50
    expect((await checkIn({ code: booking.code })).json().error).toMatchObject({ code: 'BOOKING_OTHER_DAY' });
  });
});

describe('a remote ticket', () => {
  it('is in line from its confirmation, tells when to come, and lapses when not claimed', async () => {
    const res = await api('POST', '/public/sites/PHUONG-DONG-CAM/remote-tickets', undefined, { serviceId: f.services.CT, phone: '0912666001', consent: true });
    expect(res.statusCode, res.body).toBe(201);
    const { publicId } = res.json().booking;
    const otp = await codeSentTo('84912666001');
    clock.set(T('09:05'));
    const confirmed = (await api('POST', `/public/bookings/${publicId}/confirm`, undefined, { otp })).json().booking;
    expect(confirmed).toMatchObject({ kind: 'remote', status: 'confirmed', slotAt: expect.stringMatching(/T09:05:/), arriveBy: expect.any(String) });
    await deliver();
    expect(gateway.messages.findLast((m) => m.to === '84912666001')?.text).toContain(`trước ${confirmed.arriveBy.slice(11, 16)}`);

    clock.set(T('09:20'));
    const w = (await api('POST', `/sites/${f.siteId}/tickets`, f.tokens.kiosk, { serviceId: f.services.CT })).json().ticket;
    clock.set(T('09:25'));
    const checkedIn = await checkIn({ code: confirmed.code });
    expect(checkedIn.statusCode, checkedIn.body).toBe(201);
    expect(checkedIn.json().outcome).toBe('remote');
    // in line from 09:05: before the 09:20 walk-in
    expect(checkedIn.json().ticket.position).toBeLessThan(await positionOf(w.publicId));

    // another, never claimed: lapses once its window has passed
    clock.set(T('09:30'));
    const second = (await api('POST', '/public/sites/PHUONG-DONG-CAM/remote-tickets', undefined, { serviceId: f.services.CT, phone: '0912666002', consent: true })).json().booking;
    await api('POST', `/public/bookings/${second.publicId}/confirm`, undefined, { otp: await codeSentTo('84912666002') });
    const arriveBy = new Date((await api('GET', `/public/bookings/${second.publicId}`)).json().booking.arriveBy);
    clock.set(new Date(arriveBy.getTime() + 31 * 60_000));
    await f.app.services.bookings.sweep();
    expect((await api('GET', `/public/bookings/${second.publicId}`)).json().booking.status).toBe('lapsed');
    expect((await checkIn({ code: second.code })).json().error.code).toBe('BOOKING_LAPSED');
  });

  it('is refused while the centre is closed (the lunch break), and nothing is kept', async () => {
    clock.set(T('12:00'));
    const before = (await f.t.db.selectFrom('booking').select('id').execute()).length;
    const res = await api('POST', '/public/sites/PHUONG-DONG-CAM/remote-tickets', undefined, { serviceId: f.services.CT, phone: '0912666009', consent: true });
    expect(res.statusCode).toBe(409);
    expect(res.json().error).toMatchObject({ code: 'SITE_CLOSED', details: { opensAt: '2026-11-24T13:30:00.000+07:00' } });
    expect((await f.t.db.selectFrom('booking').select('id').execute()).length).toBe(before);
  });

  it('is refused when the centre does not offer it', async () => {
    await setRules({ remoteEnabled: false });
    const res = await api('POST', '/public/sites/PHUONG-DONG-CAM/remote-tickets', undefined, { serviceId: f.services.CT, phone: '0912666003', consent: true });
    expect(res.json().error.code).toBe('REMOTE_NOT_OFFERED');
    await setRules({ remoteEnabled: true });
  });
});

describe('the provincial portal', () => {
  it('books, reads, moves and cancels with a key of scope bookings:write, and nothing without it', async () => {
    const made = await api('POST', `/sites/${f.siteId}/integration-keys`, f.tokens.manager, { name: 'Cổng DVC tỉnh', scopes: ['bookings:write'] });
    expect(made.statusCode, made.body).toBe(201);
    const key = made.json().key as string;
    const dossierKey = (await api('POST', `/sites/${f.siteId}/integration-keys`, f.tokens.manager, { name: 'Một cửa', scopes: ['dossiers:read'] })).json().key as string;
    const body = { serviceId: f.services.HT, slotAt: T('14:00'), phone: '0912444001' };
    expect((await api('POST', `/sites/${f.siteId}/bookings`, undefined, body)).statusCode).toBe(401);
    expect((await api('POST', `/sites/${f.siteId}/bookings`, dossierKey, body)).statusCode).toBe(403);
    const res = await api('POST', `/sites/${f.siteId}/bookings`, key, body);
    expect(res.statusCode, res.body).toBe(201);
    const booking = res.json().booking;
    expect(booking.status).toBe('confirmed');
    await deliver();
    expect(gateway.messages.find((m) => m.to === '84912444001')?.text).toContain('14:00');
    expect((await api('GET', `/sites/${f.siteId}/bookings/${booking.code}`, key)).json().booking.publicId).toBe(booking.publicId);
    const list = (await api('GET', `/sites/${f.siteId}/bookings?date=2026-11-24`, key)).json().bookings;
    expect(list.some((b: { code: string }) => b.code === booking.code)).toBe(true);
    expect((await api('POST', `/sites/${f.siteId}/bookings/${booking.code}/move`, key, { slotAt: T('10:00') })).json().booking.slotAt).toContain('T10:00');
    expect((await api('POST', `/sites/${f.siteId}/bookings/${booking.code}/cancel`, key)).json().booking.status).toBe('cancelled');
  });
});

describe('the day\'s end', () => {
  it('marks the absent as missed and erases every contact and ID digest', async () => {
    const booking = await bookConfirmed('0912333001', T('14:00'), { idNumber: '001099054321' });
    clock.set('2026-11-25T01:00:00Z'); // Wednesday 08:00
    await f.app.services.bookings.sweep();
    const row = await f.t.db.selectFrom('booking').selectAll().where('publicId', '=', booking.publicId).executeTakeFirstOrThrow();
    expect(row.status).toBe('missed');
    const left = await f.t.db.selectFrom('booking').select(['contact', 'idDigest']).where('localDate', '=', '2026-11-24')
      .where((eb) => eb.or([eb('contact', 'is not', null), eb('idDigest', 'is not', null)])).execute();
    expect(left).toEqual([]);
    expect((await checkIn({ code: booking.code })).json().error.code).toBe('BOOKING_MISSED');
  });
});

async function positionOf(publicId: string): Promise<number> {
  const res = await api('GET', `/public/tickets/${publicId}`);
  expect(res.statusCode, res.body).toBe(200);
  return res.json().position as number;
}
