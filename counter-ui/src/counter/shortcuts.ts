// The counter terminal's keys. Function keys, because an official's other hand is on the
// citizen's papers: one key per action, the same on every counter, printed on the buttons.

export type Action = 'callNext' | 'recall' | 'start' | 'finish' | 'noShow' | 'transfer' | 'pick' | 'pauseResume' | 'openClose';

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
];

export const keyOf = (action: Action): string => SHORTCUTS.find((s) => s.action === action)!.key;

/**
 * The action of a key press, or null. Function keys F1-F10 never reach the browser while the
 * terminal has focus (F1 help, F3 find, F5 reload, F6 address bar, F7 caret browsing...).
 */
export function actionOfKey(event: Pick<KeyboardEvent, 'key' | 'ctrlKey' | 'altKey' | 'metaKey' | 'shiftKey'>): Action | null {
  if (event.ctrlKey || event.altKey || event.metaKey) return null;
  return SHORTCUTS.find((s) => s.key === event.key)?.action ?? null;
}

export const isReservedKey = (key: string): boolean => /^F([1-9]|10)$/.test(key);
