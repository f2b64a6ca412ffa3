// The counter terminal's keys. Function keys, because an official's other hand is on the
// citizen's papers: one key per action, the same on every counter, printed on the buttons.

export type Action = 'callNext' | 'recall' | 'start' | 'finish' | 'noShow' | 'transfer' | 'pick' | 'pauseResume' | 'openClose' | 'walkIn';

export const SHORTCUTS: readonly { key: string; action: Action }[] = [
  { key: 'F1', action: 'callNext' },
  { key: 'F2', action: 'recall' },
  { key: 'F3', action: 'start' },
  { key: 'F4', action: 'finish' },
  { key: 'F5', action: 'noShow' },
  { key: 'F6', action: 'transfer' },
  { key: 'F7', action: 'pick' },
  { key: 'F8', action: 'pauseResume' },
  { key: 'F9', action: 'openClose' },
  { key: 'F10', action: 'walkIn' },
];

export const keyOf = (action: Action): string => SHORTCUTS.find((s) => s.action === action)!.key;

/**
 * The action of a key press, or null. Function keys F1-F10 never reach the browser while the
 * terminal has focus (F1 help, F3 find, F5 reload, F6 address bar, F7 caret browsing, F10 the
 * menu...). Only function keys are actions, so nothing typed into a field (a dossier code, a
 * keyboard-wedge scanner's characters and its Enter) ever presses one.
 */
export function actionOfKey(event: Pick<KeyboardEvent, 'key' | 'ctrlKey' | 'altKey' | 'metaKey' | 'shiftKey'>): Action | null {
  if (event.ctrlKey || event.altKey || event.metaKey) return null;
  return SHORTCUTS.find((s) => s.key === event.key)?.action ?? null;
}

export const isReservedKey = (key: string): boolean => /^F([1-9]|10)$/.test(key);

/** a field that takes typed text (where Enter and letters belong to the field) */
export function isTextField(target: EventTarget | null): boolean {
  if (typeof HTMLElement === 'undefined' || !(target instanceof HTMLElement)) return false;
  if (target.isContentEditable || target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement) return true;
  return target instanceof HTMLInputElement && !['button', 'checkbox', 'radio', 'submit', 'reset', 'file', 'range', 'color'].includes(target.type);
}

/**
 * Whether a key typed outside any field starts a dossier code (a letter, a digit or one of
 * . _ / -): a barcode scanner types wherever the focus happens to be, and its Enter would
 * otherwise press the button the official clicked last. Such a key goes to the dossier field.
 */
export function startsDossierCode(event: Pick<KeyboardEvent, 'key' | 'ctrlKey' | 'altKey' | 'metaKey' | 'target'>): boolean {
  if (event.ctrlKey || event.altKey || event.metaKey || isTextField(event.target)) return false;
  return /^[A-Za-z0-9._/-]$/.test(event.key);
}
