import type { Lang } from '@qms/ui-shared/format';

export type { Lang };

/**
 * The screen's language: Vietnamese first, English on request. `t(vi, en)` reads the current
 * one, so a template that calls it follows the toggle.
 */
export class LangState {
  value = $state<Lang>('vi');

  constructor(private readonly storageKey?: string) {
    const stored = storageKey ? safeGet(storageKey) : null;
    if (stored === 'en' || stored === 'vi') this.value = stored;
    this.apply();
  }

  t(vi: string, en: string): string {
    return this.value === 'vi' ? vi : en;
  }

  /** A localized label from the API ({vi, en}). */
  pick(label: { vi: string; en: string } | undefined | null): string {
    if (!label) return '';
    return (this.value === 'vi' ? label.vi : label.en) || label.vi;
  }

  set(lang: Lang): void {
    this.value = lang;
    if (this.storageKey) safeSet(this.storageKey, lang);
    this.apply();
  }

  toggle(): void {
    this.set(this.value === 'vi' ? 'en' : 'vi');
  }

  private apply() {
    if (typeof document !== 'undefined') document.documentElement.lang = this.value;
  }
}

export function safeGet(key: string): string | null {
  try {
    return localStorage.getItem(key);
  } catch {
    return null;
  }
}

export function safeSet(key: string, value: string | null): void {
  try {
    if (value === null) localStorage.removeItem(key);
    else localStorage.setItem(key, value);
  } catch {
    // private mode or full storage: the screen still works, it just forgets on reload
  }
}
