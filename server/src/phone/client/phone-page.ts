import type { PublicTicket } from '@qms/protocol';
import { ApiError, createHttpClient } from '@qms/protocol/http';
import { formatEstimate, formatNumber, formatTime, type Lang } from '@qms/ui-shared/format';

// The phone page's script (routes/phone.routes.ts renders the page, phone/phone-script.ts builds
// this into one small file): re-render from the polled ticket, switch language, vibrate when
// called, rate. A served ticket is polled on while its rating is open (every 5 s): rated on the
// counter's tablet, or past the window, the form gives way to a sentence saying so. No
// framework and no socket: it must open quickly on a cheap phone over 3G.

interface Level { score: number; label: Record<Lang, string>; asksReason?: boolean }
interface Reason { code: string; label: Record<Lang, string> }

/** What the server puts in the page (`var D=...`). */
export interface PageData {
  id: string;
  lang: Lang;
  tz: string;
  t: PublicTicket;
  rated: boolean;
  services: Record<string, Record<Lang, string>>;
  scale: Level[];
  reasons: Reason[];
  text: Record<Lang, Record<string, string>>;
  /** text messages offered by the site, and the number given (masked) */
  sms: { offered: boolean; phone: string | null };
}

declare const D: PageData;

// the API client without its socket: this page polls
const api = createHttpClient();
const FINAL = new Set(['done', 'no_show', 'cancelled', 'expired']);
const STATUSES = ['waiting', 'called', 'serving', 'done', 'no_show', 'cancelled', 'expired'] as const;
const $ = (id: string) => document.getElementById(id)!;

let t = D.t;
let lang: Lang = D.lang;
let timer: ReturnType<typeof setTimeout> | undefined;
let fails = 0;
let level: Level | null = null;
let reason: Reason | null = null;
let rated = D.rated;
let sending = false;
let closed = false;
let vibOn = false;

try {
  const asked = new URLSearchParams(location.search).get('lang');
  const saved = localStorage.getItem('qms.phone.lang');
  if (!asked && (saved === 'vi' || saved === 'en')) lang = saved;
} catch {
  // storage refused (private mode): the page's language stays
}

const ratingOpen = () => t.status === 'done' && !rated && !!t.ratingOpenUntil;
const live = () => !FINAL.has(t.status) || ratingOpen();

function render(): void {
  closed = t.status === 'done' && !rated && !t.ratingOpenUntil;
  const L = D.text[lang];
  const shown = t.status === 'transferred' ? 'waiting' : t.status;
  document.documentElement.lang = lang;
  document.querySelectorAll<HTMLElement>('[data-t]').forEach((el) => { el.textContent = L[el.getAttribute('data-t')!] ?? ''; });
  for (const s of STATUSES) $(`s-${s}`).hidden = s !== shown;
  $('svc').textContent = D.services[t.serviceId]?.[lang] ?? '';
  $('code').textContent = t.code;
  $('pos').textContent = formatNumber(t.position ?? 0, lang);
  const eta = $('eta');
  eta.textContent = t.estimatedWaitSeconds === undefined ? L.unknown! : formatEstimate(t.estimatedWaitSeconds, t.noCounterOpen, lang);
  eta.className = t.noCounterOpen ? 'none' : '';
  document.querySelectorAll<HTMLElement>('.cn').forEach((el) => { el.textContent = t.counter ? formatNumber(t.counter.number, lang) : ''; });
  document.querySelectorAll<HTMLElement>('[data-i]').forEach((el) => {
    const l = D.scale[Number(el.getAttribute('data-i'))]!;
    el.textContent = l.label[lang];
    el.className = `lv${level === l ? ' on' : ''}`;
  });
  document.querySelectorAll<HTMLElement>('[data-r]').forEach((el) => {
    const r = D.reasons[Number(el.getAttribute('data-r'))]!;
    el.textContent = r.label[lang];
    el.className = `lv${reason === r ? ' on' : ''}`;
  });
  $('rate').hidden = rated || closed;
  $('rated').hidden = !rated;
  $('closed').hidden = rated || !closed;
  document.title = `${shown === 'called' ? '\u{1F514} ' : ''}${t.code} – ${L.title}`;
  $('vib').hidden = !('vibrate' in navigator) || shown !== 'waiting';
  $('auto').hidden = !live();
  if (vibOn) $('vib').textContent = L.vibrateOn ?? '';
}

function buzz(): void {
  try {
    navigator.vibrate?.([500, 200, 500, 200, 900]);
  } catch {
    // a browser without vibration says so by throwing on some phones
  }
}

function schedule(ms: number): void {
  clearTimeout(timer);
  if (!document.hidden && live()) timer = setTimeout(poll, ms);
}

async function poll(): Promise<void> {
  try {
    const next = await api.publicTicket(D.id, { cache: 'no-store' });
    const was = t.status;
    t = next;
    fails = 0;
    $('net').hidden = true;
    $('at').textContent = formatTime(new Date(), D.tz);
    if (t.rated && !rated) {
      rated = true;
      $('rated').setAttribute('data-t', 'already');
    }
    render();
    if (t.status === 'called' && was !== 'called') buzz();
    schedule(ratingOpen() ? 5000 : 12000);
  } catch {
    fails++;
    $('net').hidden = false;
    // back soon after a server restart (3, 6, 12 ... s), not all phones of a centre at once
    schedule(Math.min(60000, 3000 * 2 ** (fails - 1)) * (0.75 + Math.random() * 0.5));
  }
}

async function send(): Promise<void> {
  if (sending || !level) return;
  sending = true;
  $('rerr').hidden = true;
  try {
    await api.ratePublicTicket(D.id, { score: level.score, ...(reason ? { reason: reason.code } : {}) });
    sending = false;
    rated = true;
    $('rated').setAttribute('data-t', 'thanks');
    render();
  } catch (error) {
    sending = false;
    if (!(error instanceof ApiError) || error.status !== 409) {
      $('rerr').textContent = D.text[lang].failed ?? '';
      $('rerr').hidden = false;
      return;
    }
    // too late, or rated already (on the counter's tablet): the page says which
    if (error.code === 'RATING_WINDOW_CLOSED') delete t.ratingOpenUntil;
    else {
      rated = true;
      $('rated').setAttribute('data-t', 'already');
    }
    render();
    schedule(12000);
  }
}

const target = (e: Event, attribute: string) => (e.target as Element | null)?.closest(`[${attribute}]`)?.getAttribute(attribute);

$('levels').addEventListener('click', (e) => {
  const i = target(e, 'data-i');
  if (i === null || i === undefined) return;
  level = D.scale[Number(i)]!;
  reason = null;
  const asks = !!level.asksReason && D.reasons.length > 0;
  $('why').hidden = !asks;
  render();
  if (!asks) void send();
});
$('reasons').addEventListener('click', (e) => {
  const i = target(e, 'data-r');
  if (i === null || i === undefined) return;
  reason = D.reasons[Number(i)]!;
  render();
});
$('send').addEventListener('click', () => void send());
$('lang').addEventListener('click', () => {
  lang = lang === 'vi' ? 'en' : 'vi';
  try {
    localStorage.setItem('qms.phone.lang', lang);
  } catch {
    // not remembered: it still switches
  }
  render();
});
$('vib').addEventListener('click', () => {
  vibOn = true;
  try {
    navigator.vibrate(80);
  } catch {
    // see buzz
  }
  render();
});
// text messages: a number with consent, or stop them (the number is erased at once)
if (D.sms.offered) {
  $('smsform').addEventListener('submit', (e) => {
    e.preventDefault();
    const phone = ($('tel') as HTMLInputElement).value;
    $('smserr').hidden = true;
    api.addContact(D.id, { phone, lang }).then((saved) => {
      $('smsphone').textContent = saved.phone;
      $('smsform').hidden = true;
      $('smsset').hidden = false;
    }, (error: unknown) => {
      $('smserr').textContent = D.text[lang][error instanceof ApiError && error.code === 'INVALID_PHONE' ? 'smsBad' : 'failed'] ?? '';
      $('smserr').hidden = false;
    });
  });
  $('smsoff').addEventListener('click', () => {
    $('smsofferr').hidden = true;
    api.removeContact(D.id).then(() => {
      $('smsset').hidden = true;
      $('smsdone').hidden = false;
    }, () => {
      // the number is still kept: say so, the citizen can tap again
      $('smsofferr').textContent = D.text[lang].failed ?? '';
      $('smsofferr').hidden = false;
    });
  });
}
document.addEventListener('visibilitychange', () => {
  if (document.hidden) clearTimeout(timer);
  else if (live()) void poll();
});
render();
schedule(ratingOpen() ? 5000 : 12000);
if (t.status === 'called') buzz();
