import type { Booking, PublicCentre, PublicService, Slot, SlotsReply } from '@qms/protocol';
import { formatBookingCode, formatDate, formatEstimate, formatNumber, formatTime } from '@qms/ui-shared/format';
import { CONSENT, fill, TEXT, type Lang, type TextKey } from './public-text.ts';

// The centre's public pages' one script (public/public-pages.ts renders the pages,
// public/public-script.ts builds this into one small file): the centre's live figures every
// 20 s, the steps of booking a time or taking a number from away, and a booking's page. No
// framework: it must open quickly on a cheap phone. Refusals are shown by their error code.

/** What the server puts in the page (`var D=...`). */
export interface PageData {
  page: 'centre' | 'sheet' | 'book' | 'now' | 'booking';
  lang: Lang;
  /** the centre's code */
  code: string;
  tz: string;
  centre?: PublicCentre;
  /** the days a slot may be booked on, yyyy-MM-dd */
  days?: string[];
  /** chosen beforehand (?service=, ?procedure=) */
  service?: string;
  procedure?: string;
  /** a booking's publicId */
  id?: string;
  /** a booking's page: the names of the centre's procedures, by code */
  procedures?: Record<string, Record<Lang, string>>;
}

declare const D: PageData;

const t = TEXT[D.lang];
const $ = (id: string) => document.getElementById(id);
const ESC: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const h = (value: unknown) => String(value ?? '').replace(/[&<>"']/g, (c) => ESC[c]!);
const site = `/sites/${encodeURIComponent(D.code)}`;

class Refused extends Error {
  constructor(readonly code: string) {
    super(code);
  }
}

async function call<T>(method: 'GET' | 'POST', path: string, body?: object): Promise<T> {
  const res = await fetch(`/api/v1/public${path}`, {
    method, headers: body ? { 'content-type': 'application/json' } : {}, ...(body ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  let json: unknown = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    // not JSON (a proxy's error page): a refusal without a code
  }
  if (!res.ok) throw new Refused((json as { error?: { code?: string } } | null)?.error?.code ?? 'other');
  return json as T;
}

/** A refusal in the citizen's words, by its code. */
function say(error: unknown): string {
  const key = `e_${error instanceof Refused ? error.code : 'other'}`;
  return key in t ? t[key as TextKey] : t.e_other;
}

/** 2026-12-07 → "Thứ Hai 07/12/2026" */
function dayLabel(day: string): string {
  const [y, m, d] = day.split('-').map(Number) as [number, number, number];
  const sunday0 = new Date(Date.UTC(y, m - 1, d)).getUTCDay();
  return `${t.weekdays.split('|')[(sunday0 + 6) % 7]} ${day.slice(8, 10)}/${day.slice(5, 7)}/${day.slice(0, 4)}`;
}

// ---- the centre: live figures ---------------------------------------------------------------

function centre(): void {
  let fails = 0;
  const tick = async () => {
    try {
      const c = await call<PublicCentre>('GET', site);
      fails = 0;
      for (const s of c.services) {
        const card = document.querySelector<HTMLElement>(`[data-svc="${s.id}"]`);
        if (!card) continue;
        card.querySelector('.w')!.textContent = formatNumber(s.waiting, D.lang);
        const eta = card.querySelector('.eta')!;
        eta.textContent = formatEstimate(s.estimatedWaitSeconds, s.openCounters === 0, D.lang);
        eta.className = `eta${s.openCounters === 0 ? ' none' : ''}`;
        card.querySelector('.oc')!.textContent = formatNumber(s.openCounters, D.lang);
      }
      const open = $('open')!;
      open.textContent = c.openNow ? t.openNow : t.closedNow;
      open.className = `badge ${c.openNow ? 'open' : 'shut'}`;
      $('at')!.textContent = formatTime(new Date(), D.tz);
      $('net')!.hidden = true;
    } catch {
      fails++;
      $('net')!.hidden = false;
    }
    setTimeout(tick, fails ? Math.min(60_000, 5_000 * fails) : 20_000);
  };
  setTimeout(tick, 20_000);
}

// ---- choosing a day and a slot (booking, and moving a booking) -------------------------------

interface Picker {
  day: string | null;
  slots: Slot[] | null;
  slot: string | null;
  error: string;
}

const newPicker = (): Picker => ({ day: null, slots: null, slot: null, error: '' });

function pickerHtml(p: Picker, days: string[]): string {
  if (!days.length) return `<p class="muted">${h(t.noDays)}</p>`;
  const dayChoices = days.map((d) => `<button type="button" class="choice${p.day === d ? ' on' : ''}" data-day="${d}">${h(dayLabel(d))}</button>`).join('');
  let slots = '';
  if (p.day) {
    const open = (p.slots ?? []).filter((s) => s.left > 0);
    slots = `<h2>${h(t.stepSlot)}</h2>${p.slots === null ? `<p class="muted">${h(t.loading)}</p>` : open.length
      ? `<div class="choices" id="slots">${open.map((s) => `<button type="button" class="choice${p.slot === s.startsAt ? ' on' : ''}" data-slot="${h(s.startsAt)}">${
        h(formatTime(s.startsAt, D.tz))}–${h(formatTime(s.endsAt, D.tz))}<small>${h(fill(t.left, { n: s.left }))}</small></button>`).join('')}</div>`
      : `<p class="muted">${h(t.noSlots)}</p>`}`;
  }
  return `<h2>${h(t.stepDate)}</h2><div class="choices" id="days">${dayChoices}</div>${slots}${p.error ? `<p class="err">${h(p.error)}</p>` : ''}`;
}

/** Wires a picker's buttons inside `root`; `changed` redraws. */
function wirePicker(root: HTMLElement, p: Picker, serviceId: () => string, changed: () => void): void {
  root.querySelectorAll<HTMLElement>('[data-day]').forEach((el) => el.addEventListener('click', async () => {
    const day = el.getAttribute('data-day')!;
    Object.assign(p, { day, slots: null, slot: null, error: '' });
    changed();
    try {
      const reply = await call<SlotsReply>('GET', `${site}/slots?serviceId=${encodeURIComponent(serviceId())}&date=${day}`);
      if (p.day === day) p.slots = reply.slots;
    } catch (error) {
      if (p.day === day) Object.assign(p, { slots: [], error: say(error) });
    }
    changed();
  }));
  root.querySelectorAll<HTMLElement>('[data-slot]').forEach((el) => el.addEventListener('click', () => {
    p.slot = el.getAttribute('data-slot');
    changed();
  }));
}

// ---- booking a time, taking a number from away ------------------------------------------------

function flow(mode: 'book' | 'now'): void {
  const root = $('flow');
  const c = D.centre;
  if (!root || !c) return;
  const services = mode === 'book' ? c.services.filter((s) => s.bookable) : c.services;
  const kinds = ([['phone', c.contacts.phone], ['email', c.contacts.email]] as const).filter(([, ok]) => ok).map(([k]) => k);
  const s = {
    service: services.find((x) => x.id === D.service)?.id ?? (services.length === 1 ? services[0]!.id : ''),
    procedure: D.procedure ?? '',
    picker: newPicker(),
    kind: kinds[0] ?? 'phone',
    contact: '',
    idNumber: '',
    consent: false,
    busy: false,
    error: '',
    booking: null as Booking | null,
    otp: '',
    note: '',
  };
  const service = (): PublicService | undefined => services.find((x) => x.id === s.service);

  const draw = () => {
    if (s.booking) return drawCode();
    const svc = service();
    const parts: string[] = [];
    parts.push(`<section class="card"><h2>${h(t.stepField)}</h2><div class="choices one" id="fields">${services.map((x) => `<button type="button" class="choice${
      x.id === s.service ? ' on' : ''}" data-service="${h(x.code)}" data-id="${h(x.id)}">${h(x.name[D.lang])}${mode === 'now'
      ? `<small>${h(t.waiting)}: ${h(formatNumber(x.waiting, D.lang))} · ${h(formatEstimate(x.estimatedWaitSeconds, x.openCounters === 0, D.lang))}</small>` : ''}</button>`).join('')}</div>
${svc?.procedures.length ? `<label for="procedure">${h(t.procedureOpt)}</label><select id="procedure"><option value="">${h(t.anyProcedure)}</option>${
      svc.procedures.map((p) => `<option value="${h(p.code)}"${p.code === s.procedure ? ' selected' : ''}>${h(p.name[D.lang])} (${h(p.code)})</option>`).join('')}</select>` : ''}</section>`);
    const ready = mode === 'book' ? !!(svc && s.picker.slot) : !!svc;
    if (mode === 'book' && svc) parts.push(`<section class="card" id="when">${pickerHtml(s.picker, D.days ?? [])}</section>`);
    if (ready) {
      const tel = s.kind === 'phone';
      parts.push(`<form class="card" id="contact" novalidate><h2>${h(t.stepContact)}</h2>
${kinds.length > 1 ? `<div class="choices">${kinds.map((k) => `<button type="button" class="choice${k === s.kind ? ' on' : ''}" data-kind="${k}">${h(t[k])}</button>`).join('')}</div>` : ''}
<label for="addr">${h(tel ? t.phone : t.email)}</label><input id="addr" name="addr" ${tel ? 'type="tel" inputmode="tel" autocomplete="tel" placeholder="0912 345 678" maxlength="16"'
        : 'type="email" autocomplete="email" placeholder="ten@example.vn" maxlength="254"'} value="${h(s.contact)}" required>
<label for="idn">${h(t.idNumber)}</label><input id="idn" type="text" inputmode="numeric" autocomplete="off" maxlength="12" pattern="\\d{12}" value="${h(s.idNumber)}">
<p class="small">${h(t.idHelp)}</p>
<h2>${h(t.consentTitle)}</h2><div class="consent"><p lang="vi">${h(CONSENT.vi)}</p><p lang="en">${h(CONSENT.en)}</p></div>
<label class="check"><input type="checkbox" id="agree"${s.consent ? ' checked' : ''}> ${h(t.agree)}</label>
<button class="btn" id="send" type="submit"${s.busy ? ' disabled' : ''}>${h(t.send)}</button>
${s.error ? `<p class="err" id="err" role="alert">${h(s.error)}</p>` : ''}</form>`);
    }
    root.innerHTML = parts.join('');
    wire();
  };

  const wire = () => {
    root.querySelectorAll<HTMLElement>('[data-id]').forEach((el) => el.addEventListener('click', () => {
      const id = el.getAttribute('data-id')!;
      if (id !== s.service) Object.assign(s, { service: id, procedure: '', picker: newPicker(), error: '' });
      draw();
      $('when')?.scrollIntoView({ behavior: 'smooth', block: 'start' });
    }));
    $('procedure')?.addEventListener('change', (e) => { s.procedure = (e.target as HTMLSelectElement).value; });
    const when = $('when');
    if (when) wirePicker(when, s.picker, () => s.service, () => {
      draw();
      if (s.picker.slot) $('contact')?.scrollIntoView({ behavior: 'smooth', block: 'start' });
    });
    root.querySelectorAll<HTMLElement>('[data-kind]').forEach((el) => el.addEventListener('click', () => {
      s.kind = el.getAttribute('data-kind') as 'phone' | 'email';
      s.contact = '';
      draw();
    }));
    $('addr')?.addEventListener('input', (e) => { s.contact = (e.target as HTMLInputElement).value; });
    $('idn')?.addEventListener('input', (e) => { s.idNumber = (e.target as HTMLInputElement).value; });
    $('agree')?.addEventListener('change', (e) => {
      s.consent = (e.target as HTMLInputElement).checked;
      // "please tick I agree" goes once it is ticked
      if (s.consent && s.error) {
        s.error = '';
        $('err')?.remove();
      }
    });
    $('contact')?.addEventListener('submit', (e) => {
      e.preventDefault();
      void send();
    });
  };

  const send = async () => {
    const contact = s.contact.trim();
    const idNumber = s.idNumber.replace(/\s/g, '');
    const local = !contact ? 'CONTACT_REQUIRED' : idNumber && !/^\d{12}$/.test(idNumber) ? 'INVALID_ID_NUMBER' : !s.consent ? 'CONSENT_REQUIRED' : null;
    if (local) {
      s.error = say(new Refused(local));
      return draw();
    }
    Object.assign(s, { busy: true, error: '' });
    draw();
    const body = {
      serviceId: s.service, ...(s.procedure ? { procedureCode: s.procedure } : {}), ...(mode === 'book' ? { slotAt: s.picker.slot } : {}),
      ...(s.kind === 'phone' ? { phone: contact } : { email: contact }), ...(idNumber ? { idNumber } : {}), lang: D.lang, consent: true,
    };
    try {
      const reply = await call<{ booking: Booking }>('POST', `${site}/${mode === 'book' ? 'bookings' : 'remote-tickets'}`, body);
      s.booking = reply.booking;
    } catch (error) {
      s.error = say(error);
      // the slot was taken meanwhile: show what is left of that day
      if (error instanceof Refused && error.code === 'SLOT_FULL') s.picker.slot = null;
    }
    s.busy = false;
    draw();
    if (s.booking) ($('otp') as HTMLInputElement | null)?.focus();
  };

  const drawCode = () => {
    const b = s.booking!;
    root.innerHTML = codeForm(b, s.otp, s.error, s.note, s.busy);
    wireCode(root, b, {
      typed: (otp) => { s.otp = otp; },
      confirmed: (booking) => {
        if (mode === 'book') {
          location.assign(`/b/${encodeURIComponent(booking.publicId)}`);
          return;
        }
        root.innerHTML = `<section class="card" id="done"><p class="ok">${h(t.confirmed)}</p>
${booking.arriveBy ? `<p>${h(t.comeByLbl)}</p><p class="bigcode" id="arrive">${h(formatTime(booking.arriveBy, D.tz))}</p>` : ''}
<a class="btn" id="see" href="/b/${encodeURIComponent(booking.publicId)}">${h(t.seeBooking)}</a></section>`;
      },
      redraw: (error, note, busy) => {
        Object.assign(s, { error, note, busy });
        drawCode();
      },
    });
  };

  draw();
}

/** The step after a code was sent: "a code was sent to 09x xxx x123", the code, send again. */
function codeForm(b: Booking, otp: string, error: string, note: string, busy: boolean): string {
  return `<form class="card" id="verify" novalidate><p>${h(fill(t.sentTo, { c: b.contact ?? '' }))}</p>
${b.verifyExpiresAt ? `<p class="small">${h(fill(t.validUntil, { t: formatTime(b.verifyExpiresAt, D.tz) }))}</p>` : ''}
<label for="otp">${h(t.enterCode)}</label><input id="otp" class="otp" type="text" inputmode="numeric" autocomplete="one-time-code" maxlength="6" pattern="\\d{6}" value="${h(otp)}">
<button class="btn" id="confirm" type="submit"${busy ? ' disabled' : ''}>${h(t.confirm)}</button>
<button class="btn alt" id="resend" type="button"${busy ? ' disabled' : ''}>${h(t.resend)}</button>
${error ? `<p class="err" id="err" role="alert">${h(error)}</p>` : ''}${note ? `<p class="ok">${h(note)}</p>` : ''}</form>`;
}

function wireCode(root: HTMLElement, b: Booking, on: { typed(otp: string): void; confirmed(b: Booking): void; redraw(error: string, note: string, busy: boolean): void }): void {
  const input = root.querySelector<HTMLInputElement>('#otp')!;
  input.addEventListener('input', () => on.typed(input.value));
  root.querySelector('#verify')!.addEventListener('submit', async (e) => {
    e.preventDefault();
    const otp = input.value.replace(/\D/g, '');
    if (otp.length !== 6) return on.redraw(t.e_VERIFICATION_FAILED, '', false);
    on.redraw('', '', true);
    try {
      on.confirmed((await call<{ booking: Booking }>('POST', `/bookings/${encodeURIComponent(b.publicId)}/confirm`, { otp })).booking);
    } catch (error) {
      on.typed('');
      on.redraw(say(error), '', false);
    }
  });
  root.querySelector('#resend')!.addEventListener('click', async () => {
    on.redraw('', '', true);
    try {
      await call('POST', `/bookings/${encodeURIComponent(b.publicId)}/resend`, {});
      on.redraw('', t.resent, false);
    } catch (error) {
      on.redraw(say(error), '', false);
    }
  });
}

// ---- a booking's page ------------------------------------------------------------------------

function bookingPage(): void {
  const root = $('booking')!;
  const actions = $('actions')!;
  const qr = $('qr')!;
  const id = encodeURIComponent(D.id!);
  const s = { b: null as Booking | null, mode: '' as '' | 'move' | 'cancel', picker: newPicker(), error: '', note: '', busy: false, otp: '' };

  const row = (label: string, value: string, key = '') => `<dt>${h(label)}</dt><dd${key ? ` id="${key}"` : ''}>${h(value)}</dd>`;
  const draw = () => {
    const b = s.b!;
    const remote = b.kind === 'remote';
    $('title')!.textContent = remote ? t.remoteTitle : t.bookingTitle;
    const live = b.status === 'confirmed' || b.status === 'unconfirmed';
    const changeable = live && b.status === 'confirmed';
    root.innerHTML = `<section class="card"><p class="muted">${h(t.codeLbl)}</p><p class="bigcode" id="code">${h(formatBookingCode(b.code))}</p>
<p><span class="badge ${live || b.status === 'checked_in' ? 'open' : 'shut'}" id="status">${h(t[`st_${b.status}` as TextKey])}</span></p>
<dl>${row(t.field, b.serviceName[D.lang], 'field')}${b.procedureCode ? row(t.procedure, D.procedures?.[b.procedureCode]?.[D.lang] ?? b.procedureCode, 'procedure') : ''}
${row(t.date, formatDate(b.slotAt, D.tz), 'date')}${remote ? '' : row(t.time, `${formatTime(b.slotAt, D.tz)}–${formatTime(b.slotEndsAt, D.tz)}`, 'time')}
${b.contact ? row(t.contact, b.contact) : ''}</dl>
${remote && b.arriveBy && live ? `<p class="ok" id="comeby">${h(fill(t.comeBy, { t: formatTime(b.arriveBy, D.tz) }))}</p>` : ''}
${live ? `<p id="window">${h(fill(t.checkIn, { a: formatTime(b.checkInFrom, D.tz), b: formatTime(b.checkInUntil, D.tz) }))}</p>` : ''}
${b.ticket ? `<a class="btn" id="ticket" href="/t/${encodeURIComponent(b.ticket.publicId)}">${h(fill(t.ticketLink, { c: b.ticket.code }))}</a>` : ''}
${s.note ? `<p class="ok" id="note">${h(s.note)}</p>` : ''}</section>`;
    qr.hidden = b.status !== 'confirmed';
    if (b.status === 'unconfirmed') {
      actions.innerHTML = codeForm(b, s.otp, s.error, '', s.busy);
      wireCode(actions, b, {
        typed: (otp) => { s.otp = otp; },
        confirmed: (booking) => {
          Object.assign(s, { b: booking, error: '', note: t.confirmed, otp: '' });
          draw();
        },
        redraw: (error, note, busy) => {
          Object.assign(s, { error, note, busy });
          draw();
        },
      });
      return;
    }
    if (!changeable) {
      const over = b.status === 'cancelled' || b.status === 'missed' || b.status === 'lapsed';
      actions.innerHTML = `${s.error ? `<p class="err">${h(s.error)}</p>` : ''}${over
        ? `<a class="btn alt" id="again" href="/c/${encodeURIComponent(D.code)}/${remote ? 'now' : 'book'}">${h(remote ? t.now : t.bookAgain)}</a>` : ''}`;
      return;
    }
    const err = s.error ? `<p class="err" id="err" role="alert">${h(s.error)}</p>` : '';
    if (s.mode === 'cancel') {
      actions.innerHTML = `<section class="card"><p><b>${h(t.cancelQ)}</b></p><button class="btn warn" id="cancel-yes" type="button"${s.busy ? ' disabled' : ''}>${h(t.cancelYes)}</button>
<button class="btn alt" id="keep" type="button">${h(t.keep)}</button>${err}</section>`;
    } else if (s.mode === 'move') {
      actions.innerHTML = `<section class="card" id="when"><h2>${h(t.moveTo)}</h2>${pickerHtml(s.picker, D.days ?? [])}
${s.picker.slot ? `<button class="btn" id="move-go" type="button"${s.busy ? ' disabled' : ''}>${h(t.moveGo)}</button>` : ''}
<button class="btn alt" id="keep" type="button">${h(t.keep)}</button>${err}</section>`;
      wirePicker(actions, s.picker, () => b.serviceId, draw);
    } else {
      actions.innerHTML = `<div class="acts">${remote ? '' : `<a class="btn alt" id="ics" href="/api/v1/public/bookings/${id}/booking.ics">${h(t.ics)}</a>`}
${remote ? '' : `<button class="btn alt" id="move" type="button">${h(t.move)}</button>`}</div>
<button class="btn warn" id="cancel" type="button">${h(t.cancel)}</button>${err}`;
    }
    $('move')?.addEventListener('click', () => {
      Object.assign(s, { mode: 'move', picker: newPicker(), error: '', note: '' });
      draw();
    });
    $('cancel')?.addEventListener('click', () => {
      Object.assign(s, { mode: 'cancel', error: '', note: '' });
      draw();
    });
    $('keep')?.addEventListener('click', () => {
      Object.assign(s, { mode: '', error: '' });
      draw();
    });
    $('cancel-yes')?.addEventListener('click', () => act('cancel', {}, t.cancelledMsg));
    $('move-go')?.addEventListener('click', () => act('move', { slotAt: s.picker.slot }, t.moved));
  };

  const act = async (what: 'cancel' | 'move', body: object, done: string) => {
    Object.assign(s, { busy: true, error: '' });
    draw();
    try {
      const reply = await call<{ booking: Booking }>('POST', `/bookings/${id}/${what}`, body);
      Object.assign(s, { b: reply.booking, mode: '', note: done });
    } catch (error) {
      s.error = say(error);
    }
    s.busy = false;
    draw();
  };

  // a confirmed booking is looked at again every 30 s: checked in at the kiosk, it leads to its ticket
  const watch = () => setTimeout(async () => {
    if (s.b?.status === 'confirmed' && !s.mode && !s.busy) {
      try {
        const { booking } = await call<{ booking: Booking }>('GET', `/bookings/${id}`);
        if (booking.status !== s.b.status) {
          s.b = booking;
          draw();
        }
      } catch {
        // offline a moment: the next look will do
      }
    }
    watch();
  }, 30_000);

  call<{ booking: Booking }>('GET', `/bookings/${id}`).then((reply) => {
    s.b = reply.booking;
    draw();
    watch();
  }, (error) => {
    root.innerHTML = `<section class="card"><p class="err">${h(say(error))}</p></section>`;
    qr.hidden = true;
  });
}

// ---- the page --------------------------------------------------------------------------------

if (D.page === 'centre') centre();
else if (D.page === 'sheet') $('print')?.addEventListener('click', () => window.print());
else if (D.page === 'book' || D.page === 'now') flow(D.page);
else if (D.page === 'booking') bookingPage();
