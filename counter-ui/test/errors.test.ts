import { describe, expect, it } from 'vitest';
import { ERROR_CODES, type ErrorCode } from '@qms/protocol';
import { ApiError } from '@qms/protocol/client';
import { EXPLAINED_CODES, explain } from '../src/lib/errors.ts';
import { DossierCode } from '@qms/protocol';
import { actionOfKey, isReservedKey, SHORTCUTS, startsDossierCode } from '../src/counter/shortcuts.ts';
import { DOSSIER_CODE } from '../src/counter/visit.svelte.ts';

// Refusals these two screens never provoke: issuing tickets, configuration, photos, printers.
const NOT_FOR_THESE_SCREENS = new Set<ErrorCode>([
  'USERNAME_TAKEN', 'COUNTER_REQUIRED', 'DEVICE_NOT_FOUND', 'UNSUPPORTED_MEDIA_TYPE',
  'COUNTER_IN_USE', 'COUNTER_NUMBER_TAKEN', 'SITE_CODE_TAKEN', 'SERVICE_CODE_TAKEN', 'SERVICE_HAS_TICKETS', 'PREFIX_TAKEN',
  'PRIORITY_GROUP_NOT_FOUND', 'INVALID_OPENING_HOURS', 'DUPLICATE_HOLIDAY', 'DUPLICATE_PROCEDURE', 'DUPLICATE_SERVICE',
  'INVALID_ANNOUNCEMENT', 'INVALID_PRIORITY_GROUP', 'INVALID_RATING_SCALE', 'INVALID_TIMEZONE', 'INVALID_RANGE', 'INVALID_GROUP_BY', 'INVALID_PERIOD',
  'USER_NOT_FOUND', 'NOT_A_DISPLAY', 'NOT_A_KIOSK', 'PRINTER_ADDRESS_REFUSED', 'AGENT_DEVICE_NOT_FOUND',
  'PHOTO_NOT_FOUND', 'PHOTO_UNREADABLE', 'PHOTO_UNSUPPORTED_TYPE', 'PHOTO_TOO_MANY_PIXELS',
  // notifications: the console's settings, the citizen's number, the dossier system
  'INVALID_CHANNEL_SETTINGS', 'CHANNEL_NOT_SET_UP', 'WEBHOOK_NOT_FOUND', 'DELIVERY_NOT_FOUND', 'RECIPIENT_NOT_FOUND',
  'INVALID_ADDRESS', 'INVALID_PHONE', 'CONTACT_NOT_OFFERED', 'TICKET_NOT_LIVE', 'INVALID_INTEGRATION_KEY', 'NOT_A_COMPLAINT',
  // integration keys of the dossier system
  'INSUFFICIENT_SCOPE',
  // the manager's reports and exports
  'REPORT_TIMED_OUT', 'REPORTS_BUSY',
]);

const err = (status: number, code: string, message = '', details?: unknown) => new ApiError(status, code, message, details);

describe('error messages of the counter terminal and rating tablet', () => {
  it('explain every code the server can answer them with, in Vietnamese and English', () => {
    // every code of the API (protocol's ERROR_CODES, which the server's QueueError is typed by)
    const missing = ERROR_CODES.filter((c) => !EXPLAINED_CODES.includes(c) && !NOT_FOR_THESE_SCREENS.has(c));
    expect(missing).toEqual([]);
    for (const code of EXPLAINED_CODES) {
      const vi = explain(err(409, code, 'x'), 'vi');
      const en = explain(err(409, code, 'x'), 'en');
      expect(vi, code).not.toBe('');
      expect(en, code).not.toBe(vi);
      expect(vi, code).not.toContain(code);
    }
  });

  it('name the ticket and the other counter', () => {
    const called = err(409, 'TICKET_NOT_WAITING', 'A002 was already called by counter 2', { code: 'A002', status: 'called', counterNumber: 2 });
    expect(explain(called, 'vi', { ticketCode: 'A002' })).toBe('Số A002 đã được quầy 2 gọi.');
    expect(explain(called, 'en', { ticketCode: 'A002' })).toBe('Ticket A002 was already called by counter 2.');
    // without context, the ticket comes from the details; the server's sentence is never read
    expect(explain(called, 'vi')).toBe('Số A002 đã được quầy 2 gọi.');
    expect(explain(err(409, 'TICKET_NOT_WAITING', 'B014 is not waiting (it is done)', { code: 'B014', status: 'done' }), 'vi')).toBe('Số B014 không còn chờ: đã phục vụ xong.');
    expect(explain(err(409, 'TICKET_NOT_WAITING', 'B014 is not waiting (it is done)', { status: 'done' }), 'vi')).toBe('Số này không còn chờ: đã phục vụ xong.');
    expect(explain(err(409, 'COUNTER_BUSY', '…', { ticketId: 'x', code: 'A007' }), 'vi')).toContain('số A007');
    expect(explain(err(409, 'COUNTER_TAKEN', 'Counter 3 is already open by Nguyễn Văn 3', { number: 3, staffName: 'Nguyễn Văn 3' }), 'vi'))
      .toBe('Quầy 3 đang do cán bộ Nguyễn Văn 3 phụ trách.');
    expect(explain(err(409, 'COUNTER_TAKEN', 'Counter 3 is already open by Nguyễn Văn 3', { number: 3 }), 'vi')).toBe('Quầy 3 đang do cán bộ khác phụ trách.');
    expect(explain(err(409, 'TICKET_AT_OTHER_COUNTER', 'A001 is being served at counter 4', { counterNumber: 4 }), 'en', { ticketCode: 'A001' }))
      .toBe('Ticket A001 is being served at counter 4.');
    expect(explain(err(409, 'TICKET_NOT_CALLED', 'Cannot recall A001: it is serving', { status: 'serving' }), 'vi', { ticketCode: 'A001' }))
      .toContain('đang được phục vụ');
  });

  it('say when a walk-in number cannot be issued, with the times of the centre', () => {
    const ctx = { timezone: 'Asia/Ho_Chi_Minh' };
    expect(explain(err(409, 'SITE_CLOSED', 'The centre is closed now', { opensAt: '2026-12-07T07:30:00.000+07:00' }), 'vi', ctx))
      .toBe('Trung tâm hiện không làm việc nên không cấp số được. Mở lại lúc 07:30 07/12/2026.');
    expect(explain(err(409, 'SITE_CLOSED', 'The centre is closed now', { opensAt: null }), 'en', ctx)).toBe('The centre is closed now, so no number can be issued.');
    expect(explain(err(409, 'SERVICE_CLOSING', '…', { closesAt: '2026-12-05T17:00:00.000+07:00', estimatedWaitSeconds: 4000 }), 'vi', ctx))
      .toContain('vượt quá giờ kết thúc (17:00)');
    expect(explain(err(409, 'SERVICE_CLOSING', '…', { closesAt: '2026-12-05T10:00:00.000Z' }), 'en', ctx)).toContain('(17:00)');
    expect(explain(err(403, 'TICKET_NOT_AT_YOUR_COUNTER', '…', { code: 'A004' }), 'vi')).toBe('Số A004 không còn ở quầy của bạn nên không sửa được thủ tục, hồ sơ.');
  });

  it('explain transport failures and unknown codes without a stack trace', () => {
    expect(explain(new TypeError('Failed to fetch'), 'vi')).toContain('Không kết nối được máy chủ');
    expect(explain(err(502, 'HTTP_502', 'Bad Gateway'), 'en')).toContain('The server hit an error');
    expect(explain(err(409, 'SOMETHING_NEW', 'A sentence'), 'en')).toBe('A sentence (SOMETHING_NEW).');
  });
});

describe('keyboard shortcuts', () => {
  it('map F1..F10 to one action each, and keep F1..F10 from the browser', () => {
    expect(SHORTCUTS.map((s) => s.key)).toEqual(['F1', 'F2', 'F3', 'F4', 'F5', 'F6', 'F7', 'F8', 'F9', 'F10']);
    expect(new Set(SHORTCUTS.map((s) => s.action)).size).toBe(SHORTCUTS.length);
    const key = (k: string, mods: Partial<KeyboardEvent> = {}) => actionOfKey({ key: k, ctrlKey: false, altKey: false, metaKey: false, shiftKey: false, ...mods });
    expect(key('F1')).toBe('callNext');
    expect(key('F5')).toBe('noShow');
    expect(key('F5', { ctrlKey: true })).toBeNull();
    expect(key('a')).toBeNull();
    expect(['F1', 'F5', 'F10'].every(isReservedKey)).toBe(true);
    expect(['F11', 'F12', 'Enter', '1'].some(isReservedKey)).toBe(false);
    expect(key('F10')).toBe('walkIn');
    // nothing a scanner types is an action: letters, digits, the code's marks, Enter
    for (const k of [...'AaZz09.-_/', 'Enter', 'Tab', ' ']) expect(key(k), k).toBeNull();
  });

  it('send the first character of a code typed outside a field to the dossier field', () => {
    const key = (k: string, mods: Partial<KeyboardEvent> = {}) => startsDossierCode({ key: k, ctrlKey: false, altKey: false, metaKey: false, target: null, ...mods });
    for (const k of [...'Ab09.-_/']) expect(key(k), k).toBe(true);
    for (const k of ['F4', 'Enter', ' ', 'Escape', 'ArrowDown', 'Tab', 'đ', '+']) expect(key(k), k).toBe(false);
    expect(key('c', { ctrlKey: true })).toBe(false); // Ctrl+C copies, as ever
  });

  it('check a dossier code by the rule of the API before sending it', () => {
    // the schema's own keywords (TypeBox keeps them on the object as JSON Schema has them)
    const rule = DossierCode as unknown as { pattern: string; minLength: number; maxLength: number };
    expect(DOSSIER_CODE.source).toBe(`^[${rule.pattern.slice(2, -3)}]{${rule.minLength},${rule.maxLength}}$`);
    for (const ok of ['000.00.12.H47-261205-0042', 'abc', 'HS/2026_01', 'X'.repeat(40)]) expect(DOSSIER_CODE.test(ok), ok).toBe(true);
    for (const bad of ['ab', 'X'.repeat(41), 'HS 2026', 'HS#1', 'mã-01', '']) expect(DOSSIER_CODE.test(bad), bad).toBe(false);
  });
});
