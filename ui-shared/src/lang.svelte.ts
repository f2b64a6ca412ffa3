import { formatNumber, type Lang } from './format.ts';

export type { Lang };

/**
 * A screen's language: Vietnamese first, English on request. `t(vi, en)` reads the current
 * one, so a template that calls it follows the toggle. Remembered under `storageKey` when given.
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

  /** A localized label from the API ({vi, en}); Vietnamese when the English one is empty. */
  pick(label: { vi: string; en: string } | undefined | null): string {
    if (!label) return '';
    return (this.value === 'vi' ? label.vi : label.en) || label.vi;
  }

  /** 1.234 / 1,234 */
  n(value: number | null | undefined, digits = 0): string {
    return value === null || value === undefined || !Number.isFinite(value) ? '–' : formatNumber(value, this.value, digits);
  }

  /** 0.873 → "87,3 %" / "87.3%" */
  pct(share: number | null | undefined, digits = 1): string {
    if (share === null || share === undefined || !Number.isFinite(share)) return '–';
    return this.value === 'vi' ? `${formatNumber(share * 100, 'vi', digits)} %` : `${formatNumber(share * 100, 'en', digits)}%`;
  }

  /** seconds → "7,5 phút" / "7.5 min" (reports read in minutes); under a minute "45 giây" / "45 s" */
  minutes(seconds: number | null | undefined, digits = 1): string {
    if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '–';
    if (Math.abs(seconds) < 60) return `${formatNumber(seconds, this.value, 0)} ${this.value === 'vi' ? 'giây' : 's'}`;
    return `${formatNumber(seconds / 60, this.value, digits)} ${this.value === 'vi' ? 'phút' : 'min'}`;
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
